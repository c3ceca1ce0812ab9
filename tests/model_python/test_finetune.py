"""model/python/finetune.py: a bad dataset is refused with the file and line
at fault, the split keeps images whole and labels on both sides, and a toy
run writes a model directory that verifies, under a new version, with its
report."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))
from auroraedge.model_dir import verify_model_dir  # noqa: E402
from finetune import answer_problem  # noqa: E402
from finetuning.dataset import (DatasetError, check_answers, check_label_counts,  # noqa: E402
                                read_dataset, split_images)
from prompt_ids import BpeEncoder  # noqa: E402

FINETUNE = os.path.join(ROOT, "model", "python", "finetune.py")
DEMO_MODEL = os.path.join(ROOT, "models", "auroraedge-demo")


def write_image(path, shade=128):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(shade)
    pixels = np.clip(rng.normal(shade, 20, (48, 64, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)


def write_jsonl(directory, rows):
    with open(directory / "labels.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def folder_dataset(directory, counts):
    for label, count in counts.items():
        for i in range(count):
            write_image(str(directory / label / f"{i}.png"), 40 if label == "NG" else 200)
    return directory


@pytest.fixture(scope="module")
def encoder():
    return BpeEncoder(os.path.join(DEMO_MODEL, "tokenizer.json"))


def test_a_missing_image_is_named_with_its_line(tmp_path):
    write_image(str(tmp_path / "a.png"))
    write_jsonl(tmp_path, [{"image": "a.png", "question": "Q?", "answer": "OK"},
                           {"image": "b.png", "question": "Q?", "answer": "NG"}])
    with pytest.raises(DatasetError, match=r"labels\.jsonl:2: image '.*b\.png' does not exist"):
        read_dataset(str(tmp_path))


def test_an_unreadable_image_is_named_with_its_line(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "labels.csv").write_text("image,question,answer\nbroken.png,Q?,OK\n")
    with pytest.raises(DatasetError, match=r"labels\.csv:2: image '.*broken\.png' cannot be read"):
        read_dataset(str(tmp_path))


def test_an_empty_answer_is_refused(tmp_path):
    write_image(str(tmp_path / "a.png"))
    write_jsonl(tmp_path, [{"image": "a.png", "question": "Q?", "answer": "OK"},
                           {"image": "a.png", "question": "Q2?", "answer": "  "}])
    with pytest.raises(DatasetError, match=r"labels\.jsonl:2: 'answer' is empty"):
        read_dataset(str(tmp_path))


def test_a_csv_without_the_header_is_refused(tmp_path):
    (tmp_path / "labels.csv").write_text("file,q,a\nx.png,Q?,OK\n")
    with pytest.raises(DatasetError, match=r"labels\.csv:1: header lacks"):
        read_dataset(str(tmp_path))


@pytest.mark.parametrize("answer, problem", [
    ("NG<|im_end|>", "special token"),
    ("cafe\u0301", "NFC"),
    (" ".join(["scratch"] * 40), "max_new_tokens 32"),
])
def test_an_answer_the_model_cannot_write_is_refused(tmp_path, encoder, answer, problem):
    write_image(str(tmp_path / "a.png"))
    write_jsonl(tmp_path, [{"image": "a.png", "question": "Q?", "answer": "OK"},
                           {"image": "a.png", "question": "Q?", "answer": answer}])
    data = read_dataset(str(tmp_path))
    with pytest.raises(DatasetError, match=rf"labels\.jsonl:2: answer .*{problem}"):
        check_answers(data, lambda text: answer_problem(encoder, text, 32))


def test_answers_the_model_can_write_pass(encoder):
    for answer in ("OK", "NG", "chip", '{"status":"NG","holes":2}', "Riss am Flansch"):
        assert answer_problem(encoder, answer, 32) is None, answer


def test_too_few_examples_of_a_label_are_refused(tmp_path):
    data = read_dataset(str(folder_dataset(tmp_path, {"OK": 6, "NG": 2})))
    with pytest.raises(DatasetError, match=r"NG/0\.png: answer 'NG' .* has 2 example\(s\).*"
                                           r"at least 5"):
        check_label_counts(data, 5)
    check_label_counts(data, 2)


def test_free_text_answers_are_not_labels(tmp_path):
    rows = []
    for i in range(6):
        write_image(str(tmp_path / f"{i}.png"), i * 30)
        rows.append({"image": f"{i}.png", "question": "Record?", "answer": f"record {i}"})
    write_jsonl(tmp_path, rows)
    check_label_counts(read_dataset(str(tmp_path)), 5)


def test_the_split_keeps_images_whole_and_every_label_on_both_sides(tmp_path):
    rows = []
    for i in range(40):
        write_image(str(tmp_path / f"{i}.png"), i)
        label = ("OK", "NG")[i % 2]
        rows += [{"image": f"{i}.png", "question": "Status?", "answer": label},
                 {"image": f"{i}.png", "question": "Which?", "answer": f"kind{i % 4}"}]
    write_jsonl(tmp_path, rows)
    data = read_dataset(str(tmp_path))
    training, validation = split_images(data, 0.2, seed=0)
    assert not {e.image for e in training} & {e.image for e in validation}
    assert len({e.image for e in validation}) == 8
    for side in (training, validation):
        assert {e.answer for e in side} == {"OK", "NG", "kind0", "kind1", "kind2", "kind3"}


def run_finetune(*args):
    return subprocess.run([sys.executable, FINETUNE, *args], capture_output=True, text=True,
                          timeout=900, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))


def test_the_command_refuses_a_bad_dataset_and_writes_nothing(tmp_path):
    data = folder_dataset(tmp_path / "data", {"OK": 6, "NG": 2})
    result = run_finetune("--data", str(data), "--from", DEMO_MODEL, "--out",
                          str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert "NG/0.png: answer 'NG'" in result.stderr and "at least 5" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag, value, message", [
    ("--anchor-weight", "-0.5", "--anchor-weight: -0.5 is negative"),
    ("--average-decay", "1.0", "--average-decay: 1.0 is outside [0, 1)"),
    ("--shared-question-weight", "0", "--shared-question-weight: 0 is below 1"),
])
def test_a_bad_training_setting_is_refused_naming_the_flag(tmp_path, flag, value, message):
    data = folder_dataset(tmp_path / "data", {"OK": 6, "NG": 6})
    result = run_finetune("--data", str(data), "--from", DEMO_MODEL, "--out",
                          str(tmp_path / "out"), flag, value)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_toy_run_writes_a_model_directory_with_a_new_version(tmp_path):
    data = folder_dataset(tmp_path / "data", {"OK": 6, "NG": 6})
    out = tmp_path / "model"
    result = run_finetune("--data", str(data), "--from", DEMO_MODEL, "--out", str(out),
                          "--steps", "4", "--eval-every", "2", "--rows-per-step", "4",
                          "--validation-share", "0.34", "--processes", "1",
                          "--anchor-weight", "0.01", "--any-orientation")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "validation at step 4" in result.stdout
    verify_model_dir(str(out))
    with open(out / "config.json") as f, open(os.path.join(DEMO_MODEL, "config.json")) as g:
        version, base = json.load(f)["version"], json.load(g)["version"]
    assert version.startswith(base + "+ft-") and version != base
    with open(out / "training-report" / "report.json") as f:
        report = json.load(f)
    assert len(report["loss"]["training"]) == report["last_step"] <= 4
    assert report["anchor_weight"] == 0.01 and report["any_orientation"] is True
    assert set(report["accuracy"]["new data, after"]) == {"Is the part OK or NG?", "overall"}
    assert (out / "training-report" / "loss_curve.png").stat().st_size > 0
    assert not (out / "training-report" / "process-group").exists()


def test_a_question_with_many_different_answers_is_free_text(tmp_path):
    rows = []
    for i in range(60):
        write_image(str(tmp_path / f"{i}.png"), i)
        rows.append({"image": f"{i}.png", "question": "Record?", "answer": f"record {i % 25}"})
        rows.append({"image": f"{i}.png", "question": "Status?", "answer": ("OK", "NG")[i % 2]})
    rows.append({"image": "0.png", "question": "Status?", "answer": "maybe"})
    write_jsonl(tmp_path, rows)
    with pytest.raises(DatasetError, match=r"answer 'maybe' to 'Status\?' has 1 example"):
        check_label_counts(read_dataset(str(tmp_path)), 2)


def test_the_anchor_distance_is_the_squared_drift_and_pulls_back():
    import torch
    from finetuning.trainer import anchor_distance, load_model
    model = load_model(DEMO_MODEL)
    anchor = [p.detach().clone() for p in model.parameters()]
    assert float(anchor_distance(model, anchor)) == 0.0
    moved = next(model.parameters())
    with torch.no_grad():
        moved.add_(0.5)
    distance = anchor_distance(model, anchor)
    assert float(distance) == pytest.approx(0.25 * moved.numel(), rel=1e-5)
    distance.backward()
    assert torch.allclose(moved.grad, torch.full_like(moved, 1.0))
    assert all(p.grad is None or not p.grad.any() for p in list(model.parameters())[1:])


def test_any_orientation_draws_the_eight_turns_and_mirrors_and_nothing_else():
    from finetuning.line_conditions import turned_or_mirrored
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    symmetries = {view.tobytes() + bytes(view.shape) for view in (
        np.rot90(pixels, turns) for turns in range(4))}
    symmetries |= {view.tobytes() + bytes(view.shape) for view in (
        np.rot90(pixels[:, ::-1], turns) for turns in range(4))}
    assert len(symmetries) == 8
    rng = np.random.default_rng(0)
    drawn = [turned_or_mirrored(rng, pixels) for _ in range(200)]
    seen = {view.tobytes() + bytes(view.shape) for view in drawn}
    assert seen == symmetries
    assert all(view.flags["C_CONTIGUOUS"] for view in drawn)


def test_replayed_questions_the_new_data_asks_are_repeated():
    from finetuning.dataset import Example, repeat_shared_questions
    examples = [Example(0, "Status?", "OK", "a:1"), Example(0, "Colour?", "red", "a:2"),
                Example(1, "Status?", "NG", "a:3")]
    repeated = repeat_shared_questions(examples, ["Status?", "Defect?"], 3)
    assert [e.where for e in repeated] == ["a:1"] * 3 + ["a:2"] + ["a:3"] * 3


def test_the_weight_average_moves_by_one_minus_the_decay_and_zero_turns_it_off():
    import torch
    from finetuning.trainer import weight_average
    assert weight_average(torch.nn.Linear(2, 2), 0.0) is None
    model = torch.nn.Linear(2, 2)
    average = weight_average(model, 0.75)
    average.update_parameters(model)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(4.0)
    average.update_parameters(model)
    assert torch.allclose(average.module.weight, start + 1.0)
    assert torch.allclose(model.weight, start + 4.0)
