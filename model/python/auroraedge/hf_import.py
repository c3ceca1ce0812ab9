"""Hugging Face checkpoints -> the reference's names and a ModelConfig.
The mapping is documented in model/python/IMPORT.md."""

import json
import math
import os
from typing import Dict, Tuple

import torch

from .config import ModelConfig
from .fusion import CompressFusion
from .hf_checkpoint import CheckpointError, HfCheckpoint
from .model_dir import DecoderSource, Progress
from .decoder import decoder_tensor_shapes
from .vision import VisionModule

PATCH_EMBEDDING = "embeddings.patch_embedding.weight"


def _expect(where: str, key: str, value, expected) -> None:
    if value != expected:
        raise CheckpointError(f"{where}: '{key}' is {value!r}; AuroraEdge-V needs {expected!r}")


def vision_from_hf(checkpoint: HfCheckpoint, config: ModelConfig) -> None:
    """SigLIP2 vision_config (or a bare vision config) -> config.vision.
    max_num_patches and the normalisation come from preprocessor_config.json
    when the checkpoint has one."""
    where = os.path.join(checkpoint.directory, "config.json")
    hf = checkpoint.config.get("vision_config", checkpoint.config)
    _expect(where, "hidden_act", hf.get("hidden_act", "gelu_pytorch_tanh"), "gelu_pytorch_tanh")
    v = config.vision
    v.hidden_size = hf["hidden_size"]
    v.num_layers = hf["num_hidden_layers"]
    v.num_heads = hf["num_attention_heads"]
    v.intermediate_size = hf["intermediate_size"]
    v.layer_norm_eps = hf.get("layer_norm_eps", 1e-6)
    v.patch_size = hf["patch_size"]
    grid = math.isqrt(hf.get("num_patches", 256))
    _expect(where, "num_patches", hf.get("num_patches", 256), grid * grid)
    v.position_grid = grid
    preprocessor_path = os.path.join(checkpoint.directory, "preprocessor_config.json")
    if os.path.isfile(preprocessor_path):
        with open(preprocessor_path, encoding="utf-8") as f:
            preprocessor = json.load(f)
        v.max_num_patches = preprocessor.get("max_num_patches", v.max_num_patches)
        v.image_mean = preprocessor.get("image_mean", v.image_mean)
        v.image_std = preprocessor.get("image_std", v.image_std)


def decoder_from_hf(checkpoint: HfCheckpoint, config: ModelConfig) -> None:
    """Qwen2 config.json -> config.decoder."""
    where = os.path.join(checkpoint.directory, "config.json")
    hf = checkpoint.config
    _expect(where, "hidden_act", hf.get("hidden_act", "silu"), "silu")
    if hf.get("rope_scaling"):
        raise CheckpointError(f"{where}: 'rope_scaling' is {hf['rope_scaling']!r}; "
                              "AuroraEdge-V supports plain RoPE only")
    d = config.decoder
    d.hidden_size = hf["hidden_size"]
    d.num_layers = hf["num_hidden_layers"]
    d.num_attention_heads = hf["num_attention_heads"]
    d.num_key_value_heads = hf.get("num_key_value_heads", d.num_attention_heads)
    d.head_dim = hf.get("head_dim") or d.hidden_size // d.num_attention_heads
    d.intermediate_size = hf["intermediate_size"]
    d.vocab_size = hf["vocab_size"]
    d.rms_norm_eps = hf.get("rms_norm_eps", 1e-6)
    d.rope_theta = float(hf.get("rope_theta", 10000.0))
    d.max_position_embeddings = hf.get("max_position_embeddings", d.max_position_embeddings)
    d.tie_word_embeddings = bool(hf.get("tie_word_embeddings", False))
    config.context_length = min(config.context_length, d.max_position_embeddings)


def extra_from_state(extra: Dict[str, torch.Tensor], config: ModelConfig, where: str) -> None:
    """Projector, compressor and fusion sizes from the extra weights' shapes."""
    def shape(name: str):
        if name not in extra:
            raise CheckpointError(f"{where}: no tensor '{name}'")
        return tuple(extra[name].shape)

    config.projector.hidden_size = shape("vision.projector.linear_1.weight")[0]
    if config.path == "compressed":
        config.compressor.hidden_size, slots = shape("compress_fusion.compressor.fc1.weight")
        config.compressor.num_tokens = shape("compress_fusion.compressor.fc2.weight")[0]
        _expect(where, "compress_fusion.compressor.fc1.weight columns", slots,
                config.vision.max_num_patches)
        config.fusion.intermediate_size = shape("compress_fusion.fusion.mlp.gate_proj.weight")[0]


def vision_prefix(checkpoint: HfCheckpoint) -> str:
    """The prefix of the SigLIP2 vision tensors: `vision_model.` in SigLIP2
    checkpoints, longer inside some VLM checkpoints."""
    matches = [n[:-len(PATCH_EMBEDDING)] for n in checkpoint.names() if n.endswith(PATCH_EMBEDDING)]
    if len(matches) != 1:
        raise CheckpointError(f"{checkpoint.directory}: expected one '*{PATCH_EMBEDDING}', "
                              f"found {len(matches)}")
    return matches[0]


def _checked(tensor: torch.Tensor, expected: Tuple[int, ...], source: str,
             target: str) -> torch.Tensor:
    if tuple(tensor.shape) != tuple(expected):
        raise CheckpointError(f"{source}: shape {list(tensor.shape)}, expected "
                              f"{list(expected)} for {target}")
    return tensor


def load_vision(checkpoint: HfCheckpoint, extra: Dict[str, torch.Tensor], config: ModelConfig,
                progress: Progress) -> VisionModule:
    module = VisionModule(config)
    prefix = vision_prefix(checkpoint)
    state = module.state_dict()
    loaded = {}
    for index, name in enumerate(state):
        target = "vision." + name
        if name.startswith("tower."):
            source = prefix + name[len("tower."):]
            tensor = checkpoint.tensor(source)
            if name == "tower." + PATCH_EMBEDDING and tensor.dim() == 4:
                # A Conv2d patch embedding [out, C, p, p]: naflex patches are
                # flattened (row, column, channel).
                tensor = tensor.permute(0, 2, 3, 1).reshape(tensor.shape[0], -1)
            where = f"{checkpoint.directory}: tensor '{source}'"
        else:
            tensor = extra.get(target)
            if tensor is None:
                raise CheckpointError(f"extra weights: no tensor '{target}'")
            where = f"extra weights: tensor '{target}'"
        loaded[name] = _checked(tensor, state[name].shape, where, target).float()
        progress("vision tensors", index + 1, len(state))
    module.load_state_dict(loaded)
    return module


def load_compress_fusion(extra: Dict[str, torch.Tensor], config: ModelConfig) -> CompressFusion:
    module = CompressFusion(config)
    state = module.state_dict()
    loaded = {}
    for name, param in state.items():
        target = "compress_fusion." + name
        if target not in extra:
            raise CheckpointError(f"extra weights: no tensor '{target}'")
        loaded[name] = _checked(extra[target], param.shape, f"extra weights: tensor '{target}'",
                                target).float()
    module.load_state_dict(loaded)
    return module


def decoder_source(checkpoint: HfCheckpoint, config: ModelConfig) -> DecoderSource:
    """Checks every decoder tensor's name and shape before anything is
    written, then serves them one at a time (Qwen2 `model.X` -> `X`)."""
    mapping = {}
    for name, shape in decoder_tensor_shapes(config):
        source = name if name == "lm_head.weight" else "model." + name
        tensor = checkpoint.tensor(source)
        _checked(tensor, shape, f"{checkpoint.directory}: tensor '{source}'", "decoder." + name)
        mapping[name] = source
    return lambda name, shape: checkpoint.tensor(mapping[name]).float()
