"""make_fixtures.py: the tensors FORMAT.md lists, consistent with each other
and with the exported modules."""

import json

import pytest
import torch

import export_model
import make_fixtures
from auroraedge.safetensors_io import read_safetensors


@pytest.mark.parametrize("path", ["compressed", "baseline"])
def test_fixtures_are_complete_and_consistent(tmp_path, tokenizer_path, path):
    model_dir, out = tmp_path / "model", tmp_path / "fixtures"
    assert export_model.main(["--config", "small", "--path", path, "--tokenizer", tokenizer_path,
                              "--out", str(model_dir), "--quiet"]) == 0
    assert make_fixtures.main(["--model", str(model_dir), "--out", str(out)]) == 0
    tensors = read_safetensors(str(out / "fixtures.safetensors"))
    description = json.loads((out / "fixtures.json").read_text())
    config = json.loads((model_dir / "config.json").read_text())
    assert description["path"] == path and description["tolerance"] == 1e-4

    vision = torch.jit.load(str(model_dir / "vision.pt"))
    for i, image in enumerate(description["images"]):
        grid = tensors[f"image.{i}.grid_hw"]
        assert grid.tolist() == [image["grid_h"], image["grid_w"]]
        visual = tensors[f"image.{i}.visual"]
        valid = image["grid_h"] * image["grid_w"]
        assert visual.shape == (64, 64) and (visual[valid:] == 0).all()
        assert (tensors[f"image.{i}.patches"][valid:] == 0).all()
        with torch.no_grad():
            again = vision(tensors[f"image.{i}.patches"][None], grid[None])[0]
        assert (again - visual).abs().max() < 1e-5
        assert (f"image.{i}.compressed" in tensors) == (path == "compressed")

    pad = config["image_pad_token_id"]
    for j, prompt in enumerate(description["prompts"]):
        tokens = tensors[f"prompt.{j}.tokens"].tolist()
        images = tensors[f"prompt.{j}.images"].tolist()
        generated = tensors[f"prompt.{j}.generated"].tolist()
        logits = tensors[f"prompt.{j}.logits"]
        assert len(tokens) == prompt["length"] and images == prompt["images"]
        assert tokens.count(pad) == len(images) * config["visual_tokens_per_image"]
        assert logits.shape == (len(tokens) + 20, config["decoder"]["vocab_size"])
        assert generated == logits[len(tokens) - 1:-1].argmax(-1).tolist()
        assert (tensors[f"prompt.{j}.margin"] >= 0).all()
    assert [len(p["images"]) for p in description["prompts"]] == [0, 1, 1, 2, 3]
