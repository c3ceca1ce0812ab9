"""A Hugging Face checkpoint directory: config.json and safetensors weights,
one file (model.safetensors) or sharded (model.safetensors.index.json)."""

import json
import os
from typing import Dict, List

import torch

from .safetensors_io import SafetensorsFile

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"


class CheckpointError(ValueError):
    pass


class HfCheckpoint:
    """Tensors by their published names, read lazily from memory maps."""

    def __init__(self, directory: str):
        self.directory = directory
        config_path = os.path.join(directory, "config.json")
        if not os.path.isfile(config_path):
            raise CheckpointError(f"{config_path}: missing (a Hugging Face checkpoint directory "
                                  "has config.json)")
        with open(config_path, encoding="utf-8") as f:
            self.config = json.load(f)
        self._files: Dict[str, SafetensorsFile] = {}
        self._where: Dict[str, str] = {}
        index_path = os.path.join(directory, INDEX_FILE)
        if os.path.isfile(index_path):
            with open(index_path, encoding="utf-8") as f:
                self._where = dict(json.load(f)["weight_map"])
        elif os.path.isfile(os.path.join(directory, SINGLE_FILE)):
            file = self._file(SINGLE_FILE)
            self._where = {name: SINGLE_FILE for name in file.names()}
        else:
            raise CheckpointError(f"{directory}: neither {SINGLE_FILE} nor {INDEX_FILE}")

    def _file(self, name: str) -> SafetensorsFile:
        if name not in self._files:
            path = os.path.join(self.directory, name)
            if not os.path.isfile(path):
                raise CheckpointError(f"{path}: missing (named by {INDEX_FILE})")
            self._files[name] = SafetensorsFile(path)
        return self._files[name]

    def names(self) -> List[str]:
        return list(self._where)

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def tensor(self, name: str) -> torch.Tensor:
        if name not in self._where:
            raise CheckpointError(f"{self.directory}: no tensor '{name}'")
        return self._file(self._where[name]).tensor(name)
