"""export_model.py: the directory of FORMAT.md, its TorchScript modules give
the reference outputs, checksums, determinism, bfloat16, --from-state."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

import export_model
import quantize_vision

from auroraedge.model_dir import ModelDirError, load_model_dir, verify_model_dir
from auroraedge.reference import build_random
from auroraedge.safetensors_io import read_safetensors, read_safetensors_header
from auroraedge.vision import valid_rows

from conftest import PYTHON_DIR

EXPORT = os.path.join(PYTHON_DIR, "export_model.py")


def export(out_dir, tokenizer, *args):
    """export_model.py in this process (no interpreter start per export)."""
    assert export_model.main(["--config", "small", "--out", str(out_dir), "--tokenizer",
                              tokenizer, "--quiet", *args]) == 0


@pytest.fixture(scope="module")
def compressed_dir(tmp_path_factory, tokenizer_path):
    out = tmp_path_factory.mktemp("export") / "small"
    export(out, tokenizer_path, "--seed", "5")
    return out


def test_directory_has_every_file_and_a_valid_manifest(compressed_dir):
    manifest = verify_model_dir(str(compressed_dir))
    assert sorted(manifest["files"]) == sorted([
        "config.json", "generation_config.json", "tokenizer.json", "vision.pt",
        "vision_int8.pt", "compress_fusion.pt", "decoder.safetensors"])
    config = json.loads((compressed_dir / "config.json").read_text())
    assert config["format_version"] == 1 and config["version"] == "random-seed5"
    assert config["visual_tokens_per_image"] == 16
    assert config["decoder"]["vocab_size"] == 306
    assert config["image_pad_token_id"] == 305 and config["eos_token_ids"] == [302, 300]
    assert json.loads((compressed_dir / "generation_config.json").read_text())["top_p"] == 1.0


def test_decoder_safetensors_layout(compressed_dir):
    path = str(compressed_dir / "decoder.safetensors")
    header, data_start = read_safetensors_header(path)
    assert data_start % 8 == 0
    assert list(header)[0] == "embed_tokens.weight" and "lm_head.weight" not in header
    assert header["layers.1.self_attn.k_proj.weight"]["shape"] == [32, 64]
    assert header["layers.1.self_attn.k_proj.bias"]["dtype"] == "F32"
    ends = sorted(entry["data_offsets"] for entry in header.values())
    assert all(a[1] == b[0] for a, b in zip(ends, ends[1:]))  # no gaps
    assert os.path.getsize(path) == data_start + ends[-1][1]


def test_torchscript_modules_give_the_reference_outputs(compressed_dir, small_config):
    reference = build_random(small_config(), 5)
    vision = torch.jit.load(str(compressed_dir / "vision.pt"))
    compress_fusion = torch.jit.load(str(compressed_dir / "compress_fusion.pt"))
    grid_hw = torch.tensor([[8, 8], [5, 10]])
    patches = torch.rand(2, 64, 768) * valid_rows(grid_hw, 64).unsqueeze(-1)
    with torch.no_grad():
        visual = vision(patches, grid_hw)
        assert torch.allclose(visual, reference.encode_images(patches, grid_hw), atol=1e-6)
        valid = valid_rows(grid_hw, 64)
        assert torch.allclose(compress_fusion.compress(visual, valid),
                              reference.visual_tokens(visual, grid_hw), atol=1e-6)
        rows = torch.cat([visual[0], visual[1, :50]]).unsqueeze(0)
        cross = compress_fusion.cross_kv(rows)
        expected_cross = reference.compress_fusion.fusion.cross_kv(rows)
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(cross, expected_cross))
        text = torch.randn(1, 4, 64)
        empty = torch.zeros(1, 4, 0, 16)
        out, k, v = compress_fusion.fuse(text[:, :3], torch.arange(3), empty, empty, *cross)
        step, k, v = compress_fusion.fuse(text[:, 3:], torch.arange(3, 4), k, v, *cross)
        whole, _, _ = reference.compress_fusion.fuse(text, torch.arange(4), empty, empty, *cross)
    assert k.shape == (1, 4, 4, 16)
    assert torch.allclose(torch.cat([out, step], dim=1), whole, atol=1e-5)


def test_loaded_directory_equals_the_seeded_reference(compressed_dir, small_config):
    loaded = load_model_dir(str(compressed_dir))
    reference = build_random(small_config(), 5)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_same_seed_gives_identical_files(compressed_dir, tmp_path, tokenizer_path):
    export(tmp_path / "again", tokenizer_path, "--seed", "5")
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    first = json.loads((compressed_dir / "manifest.json").read_text())
    # Scripted again in one process, the quantized modules' TorchScript
    # classes get mangled names: vision_int8.pt is compared across processes
    # below.
    del again["files"]["vision_int8.pt"], first["files"]["vision_int8.pt"]
    assert again == first


def test_corrupted_file_is_named(compressed_dir, tmp_path, tokenizer_path):
    out = tmp_path / "broken"
    export(out, tokenizer_path)
    with open(out / "decoder.safetensors", "r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\x00\x00\x80\x7f")
    with pytest.raises(ModelDirError, match="decoder.safetensors: sha256 does not match"):
        verify_model_dir(str(out))
    os.remove(out / "vision.pt")
    with pytest.raises(ModelDirError, match=r"vision.pt: missing"):
        verify_model_dir(str(out))


def test_baseline_directory_has_no_compress_fusion(tmp_path, tokenizer_path):
    out = tmp_path / "baseline"
    export(out, tokenizer_path, "--path", "baseline")
    config = json.loads((out / "config.json").read_text())
    assert config["path"] == "baseline" and config["visual_tokens_per_image"] == 64
    assert not (out / "compress_fusion.pt").exists()
    assert "compress_fusion.pt" not in verify_model_dir(str(out))["files"]


def test_bfloat16_export_rounds_the_float32_weights(compressed_dir, tmp_path, tokenizer_path):
    out = tmp_path / "bf16"
    export(out, tokenizer_path, "--seed", "5", "--dtype", "bfloat16")
    assert json.loads((out / "config.json").read_text())["torch_dtype"] == "bfloat16"
    decoder = read_safetensors(str(out / "decoder.safetensors"))
    reference = read_safetensors(str(compressed_dir / "decoder.safetensors"))
    for name, tensor in reference.items():
        assert decoder[name].dtype == torch.bfloat16
        assert torch.equal(decoder[name], tensor.to(torch.bfloat16)), name
    vision = torch.jit.load(str(out / "vision.pt"))
    grid_hw = torch.tensor([[8, 8]])
    visual = vision(torch.rand(1, 64, 768), grid_hw)
    assert visual.dtype == torch.bfloat16 and torch.isfinite(visual.float()).all()
    assert not (out / "vision_int8.pt").exists()  # int8 is made from float32
    assert quantize_vision.main([str(out)]) == 1


def test_vision_int8_is_vision_pt_quantized_and_can_be_added_to_an_older_directory(
        compressed_dir, tmp_path):
    vision = torch.jit.load(str(compressed_dir / "vision.pt"))
    quantized = torch.jit.load(str(compressed_dir / "vision_int8.pt"))
    fc1 = getattr(quantized.tower.encoder.layers, "0").mlp.fc1
    assert "quantized.dynamic" in fc1._c._type().qualified_name()
    torch.manual_seed(0)
    patches, grid_hw = torch.rand(2, 64, 768), torch.tensor([[8, 8], [4, 6]])
    with torch.inference_mode():
        exact, int8 = vision(patches, grid_hw), quantized(patches, grid_hw)
    assert not torch.allclose(exact, int8, atol=1e-6)
    assert torch.nn.functional.cosine_similarity(exact.flatten(), int8.flatten(), dim=0) > 0.995
    assert torch.equal(int8[1, 24:], torch.zeros_like(int8[1, 24:]))  # padded rows stay zero

    # An older directory gets the file from quantize_vision.py; the same
    # bytes every time (two runs, each its own process as on the command line).
    manifests = []
    for name in ("older", "older-again"):
        older = tmp_path / name / "model"
        shutil.copytree(compressed_dir, older)
        os.remove(older / "vision_int8.pt")
        manifest = json.loads((older / "manifest.json").read_text())
        del manifest["files"]["vision_int8.pt"]
        (older / "manifest.json").write_text(json.dumps(manifest))
        subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "quantize_vision.py"),
                        str(older)], check=True, capture_output=True)
        manifests.append(verify_model_dir(str(older)))
    assert "vision_int8.pt" in manifests[0]["files"]
    assert manifests[0] == manifests[1]


def test_from_state_exports_trained_weights(tmp_path, small_config, tokenizer_path):
    model = build_random(small_config(), 11)
    state_file = tmp_path / "state.pt"
    torch.save(model.state_dict(), state_file)
    out = tmp_path / "trained"
    export(out, tokenizer_path, "--from-state", str(state_file), "--version", "demo-1")
    loaded = load_model_dir(str(out))
    assert loaded.config.version == "demo-1"
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_from_state_with_wrong_tensors_names_them(tmp_path, small_config, tokenizer_path,
                                                  capsys):
    state = build_random(small_config(), 0).state_dict()
    state["decoder.extra.weight"] = state.pop("decoder.norm.weight")
    torch.save(state, tmp_path / "state.pt")
    assert export_model.main(["--out", str(tmp_path / "out"), "--tokenizer", tokenizer_path,
                              "--from-state", str(tmp_path / "state.pt")]) == 1
    error = capsys.readouterr().err
    assert "decoder.norm.weight" in error and "decoder.extra.weight" in error


def test_command_line_reports_a_bad_config_by_field(tmp_path, tokenizer_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"decoder": {"hidden": 3}}))
    result = subprocess.run([sys.executable, EXPORT, "--config", str(bad), "--out",
                             str(tmp_path / "x"), "--tokenizer", tokenizer_path],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "config field 'decoder.hidden': unknown field" in result.stderr


def test_from_state_with_wrong_shape_names_the_tensor(tmp_path, small_config, tokenizer_path,
                                                      capsys):
    state = build_random(small_config(), 0).state_dict()
    state["decoder.norm.weight"] = torch.ones(3)
    torch.save(state, tmp_path / "state.pt")
    assert export_model.main(["--out", str(tmp_path / "out"), "--tokenizer", tokenizer_path,
                              "--from-state", str(tmp_path / "state.pt")]) == 1
    error = capsys.readouterr().err
    assert "decoder.norm.weight" in error and "torch.Size([3])" in error
