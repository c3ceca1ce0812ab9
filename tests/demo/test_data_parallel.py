"""Two training processes, each with its share of a batch, end a step with the
gradient of the whole batch (data_parallel.py), and the counts they total
are the whole's."""

import os
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model", "python", "demo"))
import data_parallel  # noqa: E402

BATCH = 6


def toy_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))


def toy_batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, 5, generator=generator), torch.randint(3, (BATCH,),
                                                                       generator=generator)


def gradients(model: torch.nn.Module):
    return [p.grad.clone() for p in model.parameters()]


def shared_step(out_dir: str) -> None:
    model = toy_model()
    inputs, labels = toy_batch()
    mine = data_parallel.share(range(BATCH))
    loss = torch.nn.functional.cross_entropy(model(inputs[mine]), labels[mine])
    loss.backward()
    unused = torch.nn.Parameter(torch.ones(2))  # no gradient anywhere: averaged as zero
    data_parallel.average_gradients(list(model.parameters()) + [unused])
    counted = data_parallel.total(torch.tensor([len(mine), data_parallel.rank()]))
    torch.save({"gradients": gradients(model), "counted": counted, "unused": unused.grad,
                "processes": data_parallel.process_count()},
               os.path.join(out_dir, f"rank{data_parallel.rank()}.pt"))


def test_two_processes_average_to_the_whole_batch_gradient(tmp_path):
    data_parallel.run(2, str(tmp_path), shared_step, str(tmp_path))
    model = toy_model()
    inputs, labels = toy_batch()
    torch.nn.functional.cross_entropy(model(inputs), labels).backward()
    whole = gradients(model)
    for rank in (0, 1):
        result = torch.load(tmp_path / f"rank{rank}.pt")
        assert result["processes"] == 2
        assert result["counted"].tolist() == [BATCH, 1]
        assert result["unused"].tolist() == [0.0, 0.0]
        for got, want in zip(result["gradients"], whole):
            torch.testing.assert_close(got, want)
    assert not (tmp_path / "process-group").exists()


def test_one_process_runs_in_place(tmp_path):
    data_parallel.run(1, str(tmp_path), shared_step, str(tmp_path))
    result = torch.load(tmp_path / "rank0.pt")
    assert result["processes"] == 1 and result["counted"].tolist() == [BATCH, 0]


def test_a_relative_rendezvous_folder_joins(tmp_path, monkeypatch):
    """A relative folder (train.py --out runs/x) must not become the host of
    the file:// URL the processes meet at (they then waited forever for
    /x/..., a folder that does not exist)."""
    folder = tmp_path / "runs" / "demo-run-under-test"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    data_parallel.run(2, os.path.join("runs", folder.name), shared_step, str(folder))
    assert (folder / "rank1.pt").exists()
