"""Writes and reads the model directory of model/FORMAT.md."""

import copy
import hashlib
import json
import os
import shutil
import sys
import time
from typing import Callable, Optional, Tuple

import torch

from .config import FORMAT_VERSION, ModelConfig, load_model_dir_config
from .decoder import decoder_tensor_shapes
from .fusion import CompressFusion
from .reference import AuroraEdgeV
from .safetensors_io import read_safetensors, write_safetensors_lazy
from .vision import VisionModule

TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# Decoder tensor name -> producer of its float values.
DecoderSource = Callable[[str, Tuple[int, ...]], torch.Tensor]


class ModelDirError(ValueError):
    """A model directory that is missing a file or does not match its manifest."""


class Progress:
    """Progress lines on stderr for long steps; at most one line a second."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 1.0:
            return
        self.last = now
        self.note(f"{what}: {done}/{total} ({100 * done // total}%)")

    def note(self, what: str) -> None:
        if not self.quiet:
            print(f"[{time.monotonic() - self.started:6.1f}s] {what}", file=sys.stderr,
                  flush=True)


def run_with_fixed_hash_seed(main) -> None:
    """Runs a model-directory writer's main() under PYTHONHASHSEED=0.

    TorchScript writes some module constants in set order: a fixed hash seed
    makes the files, hence their checksums, the same on every run.
    """
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv,
                  dict(os.environ, PYTHONHASHSEED="0"))
    sys.exit(main())


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: str, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


def _save_script(module: torch.nn.Module, dtype: torch.dtype, path: str) -> None:
    torch.jit.script(module.to(dtype).eval()).save(path)


def save_vision_int8(vision: VisionModule, path: str) -> None:
    """vision.pt's twin for the server's `--weights int8`: the encoder's and
    the projector's linear layers dynamically quantized by LibTorch (int8
    weights per output channel, activations quantized per call) for its
    oneDNN quantized engine, which the server selects before it loads the
    file. The patch embedding stays float32 (its input checks read its
    weight; it is one small layer)."""
    torch.backends.quantized.engine = "onednn"
    quantized = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(vision).float().eval(),
        {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig,
         "tower.embeddings.patch_embedding": None})
    torch.jit.script(quantized).save(path)


def write_model_dir(out_dir: str, config: ModelConfig, vision: VisionModule,
                    compress_fusion: Optional[CompressFusion], decoder: DecoderSource,
                    tokenizer_path: str, progress: Progress) -> None:
    """Writes every file, the manifest last: a directory whose manifest is
    missing was not finished."""
    config.validate()
    dtype = TORCH_DTYPES[config.torch_dtype]
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.join(out_dir, "manifest.json")
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    stale = os.path.join(out_dir, "compress_fusion.pt")
    if compress_fusion is None and os.path.exists(stale):
        os.remove(stale)

    files = ["config.json", "generation_config.json", "tokenizer.json", "vision.pt"]
    write_json(os.path.join(out_dir, "config.json"), config.to_json())
    write_json(os.path.join(out_dir, "generation_config.json"), config.generation_json())
    if os.path.abspath(tokenizer_path) != os.path.abspath(os.path.join(out_dir, "tokenizer.json")):
        shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    progress.note("vision.pt: scripting and saving")
    _save_script(vision, dtype, os.path.join(out_dir, "vision.pt"))
    stale = os.path.join(out_dir, "vision_int8.pt")
    if dtype == torch.float32:
        progress.note("vision_int8.pt: quantizing, scripting and saving")
        save_vision_int8(vision, stale)
        files.append("vision_int8.pt")
    elif os.path.exists(stale):
        os.remove(stale)
    if compress_fusion is not None:
        progress.note("compress_fusion.pt: scripting and saving")
        _save_script(compress_fusion, dtype, os.path.join(out_dir, "compress_fusion.pt"))
        files.append("compress_fusion.pt")

    specs = [(name, shape, dtype, lambda name=name, shape=shape: decoder(name, shape))
             for name, shape in decoder_tensor_shapes(config)]
    known = {"decoder.safetensors": write_safetensors_lazy(
        os.path.join(out_dir, "decoder.safetensors"), specs,
        lambda name, done, total: progress("decoder.safetensors", done, total))}
    files.append("decoder.safetensors")

    entries = {}
    for name in files:
        path = os.path.join(out_dir, name)
        if name not in known:
            progress.note(f"manifest.json: sha256 of {name}")
            known[name] = sha256_file(path)
        entries[name] = {"bytes": os.path.getsize(path), "sha256": known[name]}
    write_json(manifest_path, {"format_version": FORMAT_VERSION, "files": entries})


def verify_model_dir(model_dir: str) -> dict:
    """Checks every file against manifest.json; returns the manifest."""
    manifest_path = os.path.join(model_dir, "manifest.json")
    if not os.path.isfile(manifest_path):
        raise ModelDirError(f"{manifest_path}: missing (the export did not finish?)")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelDirError(f"{manifest_path}: format_version expected {FORMAT_VERSION}, "
                            f"found {manifest.get('format_version')}")
    for name, entry in manifest["files"].items():
        path = os.path.join(model_dir, name)
        if not os.path.isfile(path):
            raise ModelDirError(f"{path}: missing (listed in manifest.json)")
        if os.path.getsize(path) != entry["bytes"]:
            raise ModelDirError(f"{path}: expected {entry['bytes']} bytes, found "
                                f"{os.path.getsize(path)}")
        if sha256_file(path) != entry["sha256"]:
            raise ModelDirError(f"{path}: sha256 does not match manifest.json")
    return manifest


def load_model_dir(model_dir: str, verify: bool = True) -> AuroraEdgeV:
    """The reference model holding a directory's weights (in their dtype)."""
    if verify:
        verify_model_dir(model_dir)
    config = load_model_dir_config(model_dir)
    model = AuroraEdgeV(config).to(TORCH_DTYPES[config.torch_dtype])
    model.vision.load_state_dict(torch.jit.load(os.path.join(model_dir, "vision.pt")).state_dict())
    if model.compressed:
        scripted = torch.jit.load(os.path.join(model_dir, "compress_fusion.pt"))
        model.compress_fusion.load_state_dict(scripted.state_dict())
    model.decoder.load_state_dict(read_safetensors(os.path.join(model_dir,
                                                                "decoder.safetensors")))
    return model.eval()
