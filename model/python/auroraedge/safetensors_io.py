"""Safetensors read and write without the safetensors package (not in
Debian): an 8-byte little-endian header length, a JSON header, then the raw
little-endian tensor data, in header order, without gaps."""

import hashlib
import json
import mmap
import struct
from typing import Callable, Dict, Iterable, Sequence, Tuple

import torch

DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16",
               torch.int64: "I64", torch.int32: "I32", torch.bool: "BOOL", torch.uint8: "U8"}
DTYPES = {v: k for k, v in DTYPE_NAMES.items()}
# The data section starts at a multiple of this, so that every tensor is
# aligned to its element size inside a memory map.
HEADER_ALIGNMENT = 8

TensorSpec = Tuple[str, Sequence[int], torch.dtype, Callable[[], torch.Tensor]]


class SafetensorsError(ValueError):
    pass


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def write_safetensors_lazy(path: str, specs: Iterable[TensorSpec],
                           progress: Callable[[str, int, int], None] = None) -> str:
    """Writes tensors one at a time: each spec's producer is called only when
    its bytes are due, so the whole file never has to be in memory. Returns
    the file's sha256 (hex), computed on the way."""
    specs = list(specs)
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, dtype, _ in specs:
        size = _element_size(dtype)
        for dim in shape:
            size *= dim
        header[name] = {"dtype": DTYPE_NAMES[dtype], "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-(8 + len(header_bytes)) % HEADER_ALIGNMENT)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for chunk in (struct.pack("<Q", len(header_bytes)), header_bytes):
            f.write(chunk)
            digest.update(chunk)
        for index, (name, shape, dtype, produce) in enumerate(specs):
            tensor = produce().to(dtype).contiguous()
            if list(tensor.shape) != list(shape):
                raise SafetensorsError(f"{path}: tensor '{name}' has shape {list(tensor.shape)}, "
                                       f"its header says {list(shape)}")
            # bfloat16 has no numpy dtype: write its bytes through an int16 view.
            raw = tensor.view(torch.int16) if dtype == torch.bfloat16 else tensor
            data = raw.numpy().tobytes()
            f.write(data)
            digest.update(data)
            if progress is not None:
                progress(name, index + 1, len(specs))
    return digest.hexdigest()


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor]) -> None:
    write_safetensors_lazy(path, [(name, t.shape, t.dtype, lambda t=t: t)
                                  for name, t in tensors.items()])


def read_safetensors_header(path: str) -> Tuple[Dict[str, dict], int]:
    """(header without __metadata__, offset of the data section)."""
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise SafetensorsError(f"{path}: shorter than the 8-byte header length")
        (length,) = struct.unpack("<Q", prefix)
        header = json.loads(f.read(length))
    header.pop("__metadata__", None)
    return header, 8 + length


class SafetensorsFile:
    """One file, memory-mapped copy-on-write: tensors are read on demand, and
    a caller may modify them without touching the file."""

    def __init__(self, path: str):
        self.path = path
        self.header, self.data_start = read_safetensors_header(path)
        with open(path, "rb") as f:
            self.mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)

    def names(self):
        return list(self.header)

    def tensor(self, name: str) -> torch.Tensor:
        entry = self.header[name]
        if entry["dtype"] not in DTYPES:
            raise SafetensorsError(f"{self.path}: tensor '{name}' has unsupported dtype "
                                   f"{entry['dtype']}")
        dtype = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // _element_size(dtype)
        if count == 0:
            return torch.empty(entry["shape"], dtype=dtype)
        flat = torch.frombuffer(self.mapped, dtype=dtype, count=count,
                                offset=self.data_start + begin)
        return flat.reshape(entry["shape"])


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """Every tensor of the file (memory-mapped, see SafetensorsFile)."""
    file = SafetensorsFile(path)
    return {name: file.tensor(name) for name in file.names()}
