"""import_hf.py on small synthetic checkpoints written with the published
SigLIP2 and Qwen2.5 tensor names, layouts and config files."""

import json
import shutil

import pytest
import torch

import import_hf
from auroraedge.model_dir import load_model_dir
from auroraedge.reference import AuroraEdgeV, build_random
from auroraedge.safetensors_io import write_safetensors
from auroraedge.vision import valid_rows


def siglip2_checkpoint(directory, model):
    """A SiglipModel checkpoint: vision_model.* plus text tower and head tensors to skip."""
    directory.mkdir()
    v = model.config.vision
    (directory / "config.json").write_text(json.dumps({
        "model_type": "siglip2",
        "text_config": {"hidden_size": 32},
        "vision_config": {"hidden_size": v.hidden_size, "intermediate_size": v.intermediate_size,
                          "num_hidden_layers": v.num_layers, "num_attention_heads": v.num_heads,
                          "num_patches": v.position_grid ** 2, "patch_size": v.patch_size,
                          "layer_norm_eps": v.layer_norm_eps, "hidden_act": "gelu_pytorch_tanh",
                          "num_channels": 3}}))
    (directory / "preprocessor_config.json").write_text(json.dumps({
        "max_num_patches": v.max_num_patches, "image_mean": v.image_mean,
        "image_std": v.image_std, "patch_size": v.patch_size}))
    tensors = {"vision_model." + name[len("tower."):]: t
               for name, t in model.vision.state_dict().items() if name.startswith("tower.")}
    tensors["vision_model.head.probe"] = torch.zeros(1, 1, v.hidden_size)
    tensors["text_model.embeddings.token_embedding.weight"] = torch.zeros(10, 32)
    tensors["logit_scale"] = torch.zeros(1)
    write_safetensors(str(directory / "model.safetensors"), tensors)


def qwen2_checkpoint(directory, model, tokenizer_path, tied=True):
    """A Qwen2ForCausalLM checkpoint in bfloat16, sharded in two files."""
    directory.mkdir()
    d = model.config.decoder
    (directory / "config.json").write_text(json.dumps({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "hidden_size": d.hidden_size, "intermediate_size": d.intermediate_size,
        "num_hidden_layers": d.num_layers, "num_attention_heads": d.num_attention_heads,
        "num_key_value_heads": d.num_key_value_heads, "vocab_size": d.vocab_size,
        "rms_norm_eps": d.rms_norm_eps, "rope_theta": d.rope_theta, "hidden_act": "silu",
        "max_position_embeddings": d.max_position_embeddings, "tie_word_embeddings": tied,
        "torch_dtype": "bfloat16", "use_sliding_window": False}))
    shutil.copyfile(tokenizer_path, directory / "tokenizer.json")
    state = {("model." + n if n != "lm_head.weight" else n): t.to(torch.bfloat16)
             for n, t in model.decoder.state_dict().items()}
    shards = [{n: t for n, t in state.items() if ".layers.1." not in n},
              {n: t for n, t in state.items() if ".layers.1." in n}]
    weight_map = {}
    for k, shard in enumerate(shards):
        name = f"model-0000{k + 1}-of-00002.safetensors"
        write_safetensors(str(directory / name), shard)
        weight_map.update({n: name for n in shard})
    (directory / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 0}, "weight_map": weight_map}))


def extra_weights(path, model):
    state = {n: t for n, t in model.state_dict().items()
             if n.startswith("vision.projector.") or n.startswith("compress_fusion.")}
    write_safetensors(str(path), state)


def expected_model(model):
    """The reference built from the same weights: the decoder as bf16 rounds it."""
    expected = AuroraEdgeV(model.config)
    state = model.state_dict()
    for name in state:
        if name.startswith("decoder."):
            state[name] = state[name].to(torch.bfloat16).float()
    expected.load_state_dict(state)
    return expected.eval()


@pytest.fixture()
def checkpoints(tmp_path, small_config, tokenizer_path):
    def make(tied=True):
        config = small_config()
        config.decoder.tie_word_embeddings = tied
        model = build_random(config, 21)
        siglip2_checkpoint(tmp_path / "siglip2", model)
        qwen2_checkpoint(tmp_path / "qwen2", model, tokenizer_path, tied)
        extra_weights(tmp_path / "extra.safetensors", model)
        return model
    return make


def run_import(tmp_path, *extra_args):
    return import_hf.main(["--vision", str(tmp_path / "siglip2"), "--language",
                           str(tmp_path / "qwen2"), "--extra", str(tmp_path / "extra.safetensors"),
                           "--config", "small", "--out", str(tmp_path / "out"), "--quiet",
                           *extra_args])


@pytest.mark.parametrize("tied", [True, False])
def test_imported_directory_computes_what_the_reference_does(tmp_path, checkpoints, tied):
    model = checkpoints(tied)
    assert run_import(tmp_path) == 0
    imported = load_model_dir(str(tmp_path / "out"))
    expected = expected_model(model)
    assert imported.config.decoder == model.config.decoder
    assert imported.config.vision == model.config.vision
    for name, tensor in expected.state_dict().items():
        assert torch.equal(imported.state_dict()[name], tensor), name

    config = imported.config
    grid_hw = torch.tensor([[4, 12]])
    patches = torch.rand(1, 64, 768) * valid_rows(grid_hw, 64).unsqueeze(-1)
    prompt = ([1, 2, config.vision_start_token_id] + [config.image_pad_token_id] * 16 +
              [config.vision_end_token_id, 3, 4])
    with torch.no_grad():
        got = imported(torch.tensor([prompt]), patches, grid_hw)
        want = expected(torch.tensor([prompt]), patches, grid_hw)
    assert (got - want).abs().max() < 1e-5


def test_baseline_import_needs_only_the_projector(tmp_path, checkpoints):
    model = checkpoints()
    state = {n: t for n, t in model.state_dict().items() if n.startswith("vision.projector.")}
    write_safetensors(str(tmp_path / "extra.safetensors"), state)
    assert run_import(tmp_path, "--path", "baseline") == 0
    assert load_model_dir(str(tmp_path / "out")).compress_fusion is None


def test_missing_tensor_is_named(tmp_path, checkpoints, capsys):
    model = checkpoints()
    state = {n: t for n, t in model.state_dict().items()
             if n.startswith("vision.projector.") or n.startswith("compress_fusion.")}
    del state["compress_fusion.fusion.cross_attn.k_proj.bias"]
    write_safetensors(str(tmp_path / "extra.safetensors"), state)
    assert run_import(tmp_path) == 1
    assert "no tensor 'compress_fusion.fusion.cross_attn.k_proj.bias'" in capsys.readouterr().err


def test_wrong_shape_is_named(tmp_path, checkpoints, capsys):
    checkpoints()
    config = json.loads((tmp_path / "qwen2" / "config.json").read_text())
    config["intermediate_size"] = 96
    (tmp_path / "qwen2" / "config.json").write_text(json.dumps(config))
    assert run_import(tmp_path) == 1
    error = capsys.readouterr().err
    assert "tensor 'model.layers.0.mlp.gate_proj.weight': shape [128, 64], expected [96, 64]" \
        in error
