"""What of hf_peer_bench.py runs without a GPU or transformers: the arguments,
the shapes taken from the model config, the parameter counts, --dry-run's
JSON, and the clear refusal to measure without transformers."""

import json
import subprocess
import sys

import pytest

import hf_peer_bench as bench


def test_full_shapes_come_from_the_2b_config():
    shapes = bench.decoder_shapes(bench.DEFAULT_CONFIG, tiny=False)
    assert shapes["num_hidden_layers"] == 28
    assert (shapes["hidden_size"], shapes["intermediate_size"], shapes["vocab_size"]) == (1536, 8960, 151936)
    assert (shapes["num_attention_heads"], shapes["num_key_value_heads"], shapes["head_dim"]) == (12, 2, 128)
    assert shapes["tie_word_embeddings"] is True


def test_parameter_counts_match_the_published_models():
    # Qwen2.5-1.5B (the decoder's shapes): 1,543,714,304 parameters.
    assert bench.decoder_parameters(bench.decoder_shapes(bench.DEFAULT_CONFIG, tiny=False)) == 1_543_714_304
    # SigLIP(2)-so400m vision tower with its pooling head: about 428 M.
    assert 420e6 < bench.vision_parameters(bench.SO400M) < 435e6


def test_defaults_are_the_issue_measurements():
    args = bench.parse_args([])
    assert (args.prefill_tokens, args.batches, args.vision_batches) == (98, [1, 16, 64], [1, 16])
    assert (args.device, args.dtype) == ("cuda", "bfloat16")


@pytest.mark.parametrize("argv", [["--batches", "1,0"], ["--batches", "x"], ["--new-tokens", "1"],
                                  ["--repeats", "0"], ["--prefill-tokens", "-3"], ["--dtype", "int8"]])
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2


def test_dry_run_writes_the_plan(tmp_path):
    out = tmp_path / "plan.json"
    assert bench.main(["--dry-run", "--batches", "1,8", "--json", str(out)]) == 0
    the_plan = json.loads(out.read_text())
    assert the_plan["batches"] == [1, 8]
    assert the_plan["vision_input"] == {"pixel_values": [None, 256, 768], "spatial_shapes": [16, 16]}
    assert the_plan["decoder"]["num_hidden_layers"] == 28


def test_tiny_shapes_are_consistent():
    the_plan = bench.plan(bench.parse_args(["--tiny", "--device", "cpu"]))
    d = the_plan["decoder"]
    assert d["hidden_size"] == d["num_attention_heads"] * d["head_dim"]
    assert the_plan["vision"]["num_patches"] == 256


def test_measuring_without_transformers_says_what_is_missing():
    try:
        import transformers  # noqa: F401
        pytest.skip("transformers is importable here: the refusal cannot be shown")
    except ImportError:
        pass
    result = subprocess.run([sys.executable, bench.__file__, "--device", "cpu", "--tiny"],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "needs torch and transformers" in result.stderr
