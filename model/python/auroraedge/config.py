"""AuroraEdge-V configuration: dataclasses that read and write the model
directory's config.json and generation_config.json (model/FORMAT.md).

Named configurations live in model/python/configs/<name>.json; `load_config`
accepts such a name, a short alias ("small", "2b") or a path to a JSON file.
"""

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List

FORMAT_VERSION = 1
CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
ALIASES = {"small": "auroraedge-v-small", "2b": "auroraedge-v-2b"}
PATHS = ("compressed", "baseline")
DTYPES = ("float32", "bfloat16")


class ConfigError(ValueError):
    """A configuration value that is missing, unknown or out of range; the
    message names the field."""


@dataclass
class VisionConfig:
    hidden_size: int = 1152
    num_layers: int = 27
    num_heads: int = 16
    intermediate_size: int = 4304
    layer_norm_eps: float = 1e-6
    patch_size: int = 16
    max_num_patches: int = 256
    position_grid: int = 16
    image_mean: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    image_std: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])

    @property
    def patch_dim(self) -> int:
        return 3 * self.patch_size * self.patch_size


@dataclass
class ProjectorConfig:
    hidden_size: int = 1536


@dataclass
class CompressorConfig:
    num_tokens: int = 64
    hidden_size: int = 256


@dataclass
class FusionConfig:
    num_heads: int = 12
    head_dim: int = 128
    intermediate_size: int = 8960


@dataclass
class DecoderConfig:
    hidden_size: int = 1536
    num_layers: int = 28
    num_attention_heads: int = 12
    num_key_value_heads: int = 2
    head_dim: int = 128
    intermediate_size: int = 8960
    # 0 in a named config: the vocabulary follows the tokenizer.
    vocab_size: int = 151936
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1000000.0
    max_position_embeddings: int = 32768
    tie_word_embeddings: bool = True


@dataclass
class GenerationConfig:
    max_new_tokens: int = 64
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0


@dataclass
class ModelConfig:
    name: str = "auroraedge-v-2b"
    version: str = ""
    format_version: int = FORMAT_VERSION
    torch_dtype: str = "float32"
    path: str = "compressed"
    max_images_per_request: int = 4
    context_length: int = 2048
    vision: VisionConfig = field(default_factory=VisionConfig)
    projector: ProjectorConfig = field(default_factory=ProjectorConfig)
    compressor: CompressorConfig = field(default_factory=CompressorConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    image_pad_token_id: int = -1
    vision_start_token_id: int = -1
    vision_end_token_id: int = -1
    eos_token_ids: List[int] = field(default_factory=list)
    # Standard deviation of the seeded random initialisation.
    initializer_range: float = 0.02
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    @property
    def visual_tokens_per_image(self) -> int:
        if self.path == "compressed":
            return self.compressor.num_tokens
        return self.vision.max_num_patches

    def validate(self) -> "ModelConfig":
        v, d, f = self.vision, self.decoder, self.fusion
        _require(self.path in PATHS, "path", f"one of {PATHS}", self.path)
        _require(self.torch_dtype in DTYPES, "torch_dtype", f"one of {DTYPES}", self.torch_dtype)
        _require(self.format_version == FORMAT_VERSION, "format_version", FORMAT_VERSION,
                 self.format_version)
        for name, value in _positive_ints(self):
            _require(value > 0, name, "a positive integer", value)
        _require(v.hidden_size % v.num_heads == 0, "vision.hidden_size",
                 f"a multiple of vision.num_heads ({v.num_heads})", v.hidden_size)
        _require(len(v.image_mean) == 3 and len(v.image_std) == 3, "vision.image_mean/image_std",
                 "3 values each", (v.image_mean, v.image_std))
        _require(d.num_attention_heads % d.num_key_value_heads == 0, "decoder.num_attention_heads",
                 f"a multiple of decoder.num_key_value_heads ({d.num_key_value_heads})",
                 d.num_attention_heads)
        _require(d.head_dim % 2 == 0, "decoder.head_dim", "an even number (RoPE pairs)", d.head_dim)
        _require(f.num_heads * f.head_dim == d.hidden_size, "fusion.num_heads * fusion.head_dim",
                 f"decoder.hidden_size ({d.hidden_size})", f.num_heads * f.head_dim)
        _require(f.head_dim % 2 == 0, "fusion.head_dim", "an even number (RoPE pairs)", f.head_dim)
        _require(self.context_length <= d.max_position_embeddings, "context_length",
                 f"at most decoder.max_position_embeddings ({d.max_position_embeddings})",
                 self.context_length)
        return self

    def to_json(self) -> Dict[str, Any]:
        """config.json of a model directory (FORMAT.md)."""
        out = dataclasses.asdict(self)
        del out["generation"]  # generation_config.json
        del out["initializer_range"]  # only the random initialisation uses it
        out["visual_tokens_per_image"] = self.visual_tokens_per_image
        return out

    def generation_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self.generation)


def _require(ok: bool, name: str, expected: Any, found: Any) -> None:
    if not ok:
        raise ConfigError(f"config field '{name}': expected {expected}, found {found!r}")


def _positive_ints(config: ModelConfig):
    # vocab_size may be 0 in a named config until a tokenizer fixes it.
    sections = {"vision": config.vision, "projector": config.projector,
                "compressor": config.compressor, "fusion": config.fusion,
                "decoder": config.decoder}
    for section_name, section in sections.items():
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if f.type is int and not (section_name == "decoder" and f.name == "vocab_size"):
                yield f"{section_name}.{f.name}", value
    yield "max_images_per_request", config.max_images_per_request
    yield "context_length", config.context_length


def _from_dict(cls, data: Dict[str, Any], where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key == "visual_tokens_per_image" and cls is ModelConfig:
            continue  # derived from path and the compressor
        if key not in known:
            raise ConfigError(f"config field '{where}{key}': unknown field "
                              f"(known: {', '.join(sorted(known))})")
        sub = known[key].default_factory if known[key].default_factory is not dataclasses.MISSING \
            else None
        if dataclasses.is_dataclass(sub) and isinstance(value, dict):
            value = _from_dict(sub, value, f"{where}{key}.")
        kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(data: Dict[str, Any]) -> ModelConfig:
    config = _from_dict(ModelConfig, data, "")
    visual_tokens = data.get("visual_tokens_per_image")
    if visual_tokens is not None:
        _require(visual_tokens == config.visual_tokens_per_image, "visual_tokens_per_image",
                 config.visual_tokens_per_image, visual_tokens)
    return config.validate()


def resolve_config_path(name_or_path: str) -> str:
    if os.path.isfile(name_or_path):
        return name_or_path
    name = ALIASES.get(name_or_path, name_or_path)
    path = os.path.join(CONFIG_DIR, name + ".json")
    if not os.path.isfile(path):
        known = sorted(os.path.splitext(n)[0] for n in os.listdir(CONFIG_DIR))
        raise ConfigError(f"--config '{name_or_path}': no such file and no named config "
                          f"(named: {', '.join(known)}; aliases: {', '.join(ALIASES)})")
    return path


def load_config(name_or_path: str) -> ModelConfig:
    with open(resolve_config_path(name_or_path), encoding="utf-8") as f:
        return config_from_dict(json.load(f))


def load_model_dir_config(model_dir: str) -> ModelConfig:
    """config.json + generation_config.json of a model directory."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        data = json.load(f)
    generation_path = os.path.join(model_dir, "generation_config.json")
    if os.path.isfile(generation_path):
        with open(generation_path, encoding="utf-8") as f:
            data["generation"] = json.load(f)
    return config_from_dict(data)
