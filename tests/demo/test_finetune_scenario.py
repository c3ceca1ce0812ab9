"""The fine-tuning walk-through of README.md, end to end through the real
server: a part the demo model has never seen (model/python/scenario/
flange_parts.py, drawn by its own code), labelled images of it, fine-tuned
from the shipped demo model with replayed demo images (finetune.py), the new
model directory served by auroraedge-server, the flanges' OK/NG judged on
held-out images and the demo's own parts asked again.

AURORAEDGE_FINETUNE_SCENARIO=full is the README's run (CTest label long,
cmake -DAURORAEDGE_LONG_TESTS=ON): 300 training images; at least 95 % OK/NG
on 200 held-out flanges; on 200 held-out demo images (every question type)
the overall and the OK/NG accuracy within 2 points of the shipped model's.
The default is a toy size that runs the same commands in a few minutes and
checks the pipeline (the served model is the new one and answers), not
accuracy.
"""

import contextlib
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(ROOT, "model", "python")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from aurora_client import Client  # noqa: E402  (before model/python's `auroraedge`)
from server_process import ServerProcess  # noqa: E402

sys.path.insert(0, PYTHON_DIR)
import score_dataset  # noqa: E402

DEMO_MODEL = os.path.join(ROOT, "models", "auroraedge-demo")
PROTO_DIR = os.environ["AURORAEDGE_PYTHON_PROTO_DIR"]
SIZE = os.environ.get("AURORAEDGE_FINETUNE_SCENARIO", "toy")
SIZES = {
    "toy": {"train": 24, "test": 12, "replay": 30, "demo": 8, "replay_questions": "status,shape",
            "finetune": ["--steps", "6", "--eval-every", "3", "--min-per-label", "2",
                         "--validation-share", "0.25"]},
    "full": {"train": 300, "test": 200, "replay": 600, "demo": 200,
             "replay_questions": "status,defect,location,holes,shape,colour,record",
             "finetune": []},
}
STATUS = "Is the part OK or NG?"
MIN_STATUS = 0.95
MAX_FORGETTING = 0.02


def run(script, *args, env=None):
    result = subprocess.run([sys.executable, os.path.join(PYTHON_DIR, script), *args],
                            capture_output=True, text=True, timeout=3600,
                            env=dict(os.environ, **(env or {})))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    size = SIZES[SIZE]
    work = tmp_path_factory.mktemp("scenario")
    run("scenario/flange_parts.py", "--out", str(work / "flange-train"), "--count",
        str(size["train"]), "--split", "train")
    run("scenario/flange_parts.py", "--out", str(work / "flange-test"), "--count",
        str(size["test"]), "--split", "test")
    run("demo/export_dataset.py", "--out", str(work / "replay"), "--count", str(size["replay"]),
        "--questions", size["replay_questions"])
    run("demo/export_dataset.py", "--out", str(work / "demo-test"), "--count", str(size["demo"]),
        "--split", "test")
    log = run("finetune.py", "--data", str(work / "flange-train"), "--replay",
              str(work / "replay"), "--from", DEMO_MODEL, "--out", str(work / "model"),
              "--any-orientation", *size["finetune"], env={"OMP_WAIT_POLICY": "PASSIVE"})
    print(log[-1500:])
    return work


@contextlib.contextmanager
def serving(model_dir):
    """(address, the version the server reports) of a server on a model directory."""
    server = ServerProcess(model_dir=str(model_dir))
    try:
        server.wait_serving()
        client = Client(server.address)
        try:
            version = client.info().version
        finally:
            client.close()
        yield server.address, version
    finally:
        assert server.terminate() == 0, server.log()


def served_answers(model_dir, dataset):
    """(the rows, the server's answers) of a dataset."""
    with serving(model_dir) as (address, _):
        rows = score_dataset.read_rows(str(dataset))
        return rows, score_dataset.ask_all(address, rows, PROTO_DIR)


def scored_as_the_readme_does(address, dataset):
    """score_dataset.py run as a script, as the walk-through runs it: its
    accuracy per question (and overall)."""
    printed = run("score_dataset.py", "--address", address, "--data", str(dataset),
                  "--proto-dir", PROTO_DIR)
    return {question: float(share.rstrip("%")) / 100
            for question, share in (line.rsplit(": ", 1) for line in printed.splitlines())}


def test_the_new_part_is_judged_through_the_server(scenario):
    with serving(scenario / "model") as (address, version):
        accuracy = scored_as_the_readme_does(address, scenario / "flange-test")
    with open(scenario / "model" / "config.json") as f, \
            open(os.path.join(DEMO_MODEL, "config.json")) as g:
        new, base = json.load(f)["version"], json.load(g)["version"]
    assert version == new and new != base
    assert set(accuracy) == {STATUS, "Which defect does the part have?", "overall"}, accuracy
    print("flanges, through the server: " +
          ", ".join(f"{q} {100 * a:.1f}%" for q, a in accuracy.items()))
    with open(scenario / "model" / "training-report" / "report.json") as f:
        report = json.load(f)
    print(f"fine-tuning: {report['wall_seconds']} s wall, {report['cpu_seconds']} s CPU, "
          f"best step {report['best_step']}")
    if SIZE == "full":
        assert accuracy[STATUS] >= MIN_STATUS, accuracy


def test_the_demo_parts_are_not_forgotten(scenario):
    rows, before = served_answers(DEMO_MODEL, scenario / "demo-test")
    _, after = served_answers(scenario / "model", scenario / "demo-test")
    was, now = score_dataset.accuracy(rows, before), score_dataset.accuracy(rows, after)
    print("demo parts through the server, shipped -> fine-tuned: " + ", ".join(
        f"{q} {100 * was[q]:.1f} -> {100 * now[q]:.1f}%" for q in was))
    assert len(after) == len(rows)
    if SIZE == "full":
        for question in ("overall", STATUS):
            assert now[question] >= was[question] - MAX_FORGETTING, (question, was, now)
