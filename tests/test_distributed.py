"""helpers.distributed: the data order that makes DDP exact, and one tiny torchrun job (Chapter 12)."""

import json

import pytest
import torch

from helpers import distributed


def test_rank_batches_together_are_the_single_process_batches():
    n, b, world = 20, 3, 2
    for epoch in range(3):
        single = distributed.global_batches(n, world * b, epoch, seed=5)
        per_rank = [distributed.rank_batches(n, b, epoch, r, world, seed=5) for r in range(world)]
        assert len(single) == len(per_rank[0]) == len(per_rank[1])
        for step, batch in enumerate(single):
            together = torch.cat([per_rank[r][step] for r in range(world)])
            assert sorted(together.tolist()) == sorted(batch.tolist())
    with pytest.raises(ValueError, match="multiple"):
        distributed.rank_batches(21, 3, 0, 0, 2)


def test_single_process_training_is_deterministic():
    X, y = torch.randn(40, 64), torch.randint(10, (40,))
    a, la = distributed.train_single(X, y, width=8, batch_size=8, epochs=2, lr=0.1)
    b, lb = distributed.train_single(X, y, width=8, batch_size=8, epochs=2, lr=0.1)
    assert la == lb and distributed.max_weight_difference(a.state_dict(), b.state_dict()) == 0.0
    with pytest.raises(ValueError, match="keys"):
        distributed.max_weight_difference(a.state_dict(), {"x": torch.zeros(1)})


def test_torchrun_command_and_bad_input():
    command = distributed.torchrun_command(2, ["--data", "d.pt"])
    assert "--standalone" in command and "--nproc_per_node=2" in command and command[-3:] == ["helpers.distributed", "--data", "d.pt"]
    with pytest.raises(ValueError):
        distributed.torchrun_command(0, [])
    with pytest.raises(FileNotFoundError, match="results.json"):
        distributed.read_results("/nonexistent/folder")


def test_two_process_job_matches_one_process(tmp_path):
    """One tiny torchrun job with 2 gloo processes (a few seconds, most of it start-up)."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(48, 64, generator=g), torch.randint(10, (48,), generator=g)
    torch.save({"X": X, "y": y}, tmp_path / "data.pt")
    args = ["--data", str(tmp_path / "data.pt"), "--out", str(tmp_path / "out"), "--batch-size", "4",
            "--epochs", "2", "--width", "8", "--widths", "8", "--speed-steps", "2", "--speed-batch-size", "4"]
    distributed.launch(2, args, timeout=240)
    results, ddp, unsharded = distributed.read_results(tmp_path / "out")
    assert results["world size"] == 2 and results["backend"] == "gloo"
    assert results["all_reduce demo"]["after_sum"] == [3.0, 30.0]
    assert results["gradient by hand max difference"] < 1e-6
    single, _ = distributed.train_single(X, y, width=8, batch_size=8, epochs=2, lr=0.1)
    assert distributed.max_weight_difference(ddp, single.state_dict()) < 1e-5
    small, _ = distributed.train_single(X, y, width=8, batch_size=4, epochs=2, lr=0.1)
    assert distributed.max_weight_difference(unsharded, small.state_dict()) < 1e-5
    assert results["unsharded"]["steps per epoch"] == 2 * results["sharded"]["steps per epoch"]
    assert json.loads((tmp_path / "out" / "results.json").read_text())["speed"][0]["width"] == 8

