"""train.py runs end to end at a toy size (both stages, evaluation, export,
report) and writes a model directory the exporter vouches for; the real run
is far too long for a test."""

import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAIN = os.path.join(ROOT, "model", "python", "demo", "train.py")


def test_a_toy_run_exports_a_model_and_its_report(tmp_path):
    out = tmp_path / "model"
    command = [sys.executable, TRAIN, "--out", str(out), "--cache", str(tmp_path / "data"),
               "--train-images", "24", "--validation-images", "8", "--test-images", "8",
               "--shifted-images", "4",
               "--vision-steps", "3", "--vision-batch", "4", "--steps", "2",
               "--images-per-step", "2", "--warmup", "1", "--eval-every", "2", "--threads", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "vision stage, training images at step 2" in result.stdout
    for name in ("manifest.json", "config.json", "tokenizer.json", "vision.pt",
                 "decoder.safetensors", "compress_fusion.pt"):
        assert (out / name).is_file(), name
    with open(out / "training-report" / "report.json") as f:
        report = json.load(f)
    assert set(report["accuracy"]["test"]) >= {"status", "record", "overall"}
    assert set(report["accuracy"]) == {"validation", "test", "test, loose-roi", "test, padding",
                                       "test, rotated", "test, grey", "test, flat"}
    with open(out / "config.json") as f:
        assert json.load(f)["version"] == report["version"]
    assert len(report["loss"]["vision stage (auxiliary loss)"]) == 3
    assert len(report["loss"]["whole model (answer loss)"]) == 2
    assert (out / "training-report" / "loss_curve.png").is_file()
    assert not (out / "training-report" / "state.pt").exists()


def test_a_process_count_without_a_share_of_every_step_is_refused(tmp_path):
    for processes in ("0", "3"):
        result = subprocess.run([sys.executable, TRAIN, "--out", str(tmp_path / "model"),
                                 "--vision-batch", "4", "--images-per-step", "2",
                                 "--processes", processes],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert f"--processes: {processes} is out of range" in result.stderr
        assert "1 to 2" in result.stderr
        assert not (tmp_path / "model").exists()
