"""Chapter 12: data-parallel training with ``torch.distributed`` (DDP), as a launchable script.

Run it the way practitioners do, from a shell (or from a notebook as a subprocess)::

    OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2 -m helpers.distributed \\
        --data data.pt --out results/

``torchrun`` starts one Python process per ``--nproc_per_node``, gives each its
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` and a rendezvous address, and each
process runs :func:`main`. The worker must live in a module under an
``if __name__ == "__main__":`` guard: a function defined in a notebook cannot
be sent to another process. ``gloo`` is the backend on CPUs, ``nccl`` on GPUs.

What the workers do, in order (rank 0 writes everything to ``--out``):

1. **all_reduce from scratch**: each rank holds a small tensor; after
   ``dist.all_reduce`` every rank holds the sum;
2. **gradient averaging by hand**: each rank computes the gradient on its own
   half of a batch; all-reducing and dividing by the world size gives exactly
   the gradient that DDP leaves in ``.grad``;
3. **equivalence**: ``--epochs`` epochs of SGD with per-process batch ``b``,
   data sharded by ``DistributedSampler``; the final weights go to
   ``ddp_weights.pt``. :func:`train_single` with batch ``2 b`` and the same
   learning rate, run in one process, visits the same examples per step
   (:func:`global_batches` and :func:`rank_batches` explain why);
4. **the same run without sharding** (every process sees all the data, a
   classic mistake): its weights go to ``unsharded_weights.pt``;
5. **speed**: the median time of one training step per model width
   (``--widths``), with the time of the gradient all-reduce alone;
6. **threads**: a matrix-product benchmark run on all ranks at once with 1,
   then 2 threads each (on a 2-core machine, 2 x 2 threads oversubscribe it).

Results go to ``results.json`` (read it with :func:`read_results`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data.distributed import DistributedSampler

from helpers.models import mlp

N_INPUTS, N_CLASSES = 64, 10


def make_model(width: int, depth: int = 1, seed: int = 0) -> nn.Sequential:
    """The chapter's MLP, 64 -> ``width`` (x ``depth`` hidden layers) -> 10, initialised from ``seed``."""
    torch.manual_seed(seed)
    return mlp(N_INPUTS, [width] * depth, N_CLASSES)


def global_batches(n: int, batch_size: int, epoch: int, seed: int = 0) -> list[torch.Tensor]:
    """One process's batches for an epoch: the permutation ``DistributedSampler`` draws, cut in order.

    ``DistributedSampler`` shuffles with ``torch.randperm(n)`` from a generator seeded with
    ``seed + epoch``; we use the same permutation, so the examples of step ``k`` here are
    exactly the union of the examples of step ``k`` on all ranks (see :func:`rank_batches`).
    """
    generator = torch.Generator().manual_seed(seed + epoch)
    order = torch.randperm(n, generator=generator)
    return list(order.split(batch_size))


def rank_batches(n: int, batch_size: int, epoch: int, rank: int, world_size: int,
                 seed: int = 0) -> list[torch.Tensor]:
    """The batches of ``rank`` for an epoch, from ``torch.utils.data.DistributedSampler``.

    The sampler gives rank ``r`` the positions ``r, r + W, r + 2W, ...`` of the shuffled
    order (``W`` = world size). So the first ``batch_size`` indices of every rank together are
    the first ``W * batch_size`` of the shuffled order: one step of all ranks with batch ``b``
    sees the same examples as one step of a single process with batch ``W * b``.
    ``n`` must be a multiple of ``W`` (otherwise the sampler pads with repeated examples).
    """
    if n % world_size:
        raise ValueError(f"n = {n} must be a multiple of the world size {world_size} (no padding)")
    sampler = DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(torch.tensor(list(iter(sampler))).split(batch_size))


def sgd_epoch(model: nn.Module, optimizer, X: torch.Tensor, y: torch.Tensor, batches) -> list[float]:
    """One epoch of plain training steps over ``batches`` (index tensors); the loss of each step."""
    losses = []
    for idx in batches:
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


def train_single(X: torch.Tensor, y: torch.Tensor, *, width: int, batch_size: int, epochs: int,
                 lr: float, seed: int = 0) -> tuple[nn.Module, list[float]]:
    """The one-process reference: SGD with ``batch_size`` over :func:`global_batches`."""
    model = make_model(width, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        losses += sgd_epoch(model, optimizer, X, y, global_batches(len(X), batch_size, epoch, seed))
    return model, losses


def step_seconds(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 steps: int = 20, warmup: int = 3, seed: int = 0) -> float:
    """Median wall-clock seconds of one SGD step of ``model`` (DDP-wrapped or not) with ``batch_size``."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    times = []
    for step in range(warmup + steps):
        idx = torch.randint(len(X), (batch_size,), generator=generator)
        start = time.perf_counter()
        sgd_epoch(model, optimizer, X, y, [idx])
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def matmul_seconds(size: int = 512, repeats: int = 5) -> float:
    """Median seconds of one ``size x size`` matrix product with the current number of threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --------------------------------------------------------------------------
# What each worker process runs
# --------------------------------------------------------------------------


def _all_reduce_demo(rank: int, world_size: int) -> dict:
    mine = torch.tensor([rank + 1.0, 10.0 * (rank + 1)])
    summed = mine.clone()
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)  # every rank ends with the same sum
    before = [None] * world_size
    dist.all_gather_object(before, mine.tolist())
    return {"before": before, "after_sum": summed.tolist(), "mean": (summed / world_size).tolist()}


def _gradient_by_hand(X, y, rank: int, world_size: int, batch_size: int, seed: int) -> float:
    """Max |DDP's gradient - (all-reduced local gradients / W)| over all parameters."""
    idx = rank_batches(len(X), batch_size, 0, rank, world_size, seed)[0]
    plain = make_model(32, seed=seed)
    nn.functional.cross_entropy(plain(X[idx]), y[idx]).backward()
    by_hand = []
    for p in plain.parameters():
        g = p.grad.clone()
        dist.all_reduce(g)  # sum over ranks ...
        by_hand.append(g / world_size)  # ... divided by their number: the mean gradient
    wrapped = DDP(make_model(32, seed=seed))
    nn.functional.cross_entropy(wrapped(X[idx]), y[idx]).backward()  # DDP all-reduces inside backward
    return max(float((a - p.grad).abs().max()) for a, p in zip(by_hand, wrapped.module.parameters()))


def _train_ddp(X, y, *, rank, world_size, width, batch_size, epochs, lr, seed, shard=True):
    model = DDP(make_model(width, seed=seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, steps = [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        if shard:
            batches = rank_batches(len(X), batch_size, epoch, rank, world_size, seed)
        else:  # the mistake: every process walks through all the data in the same order
            batches = global_batches(len(X), batch_size, epoch, seed)
        losses += sgd_epoch(model, optimizer, X, y, batches)
        steps.append(len(batches))
    return model.module, {"losses": losses, "steps per epoch": steps[0], "seconds": time.perf_counter() - start}


def _speed(X, y, widths, batch_size, steps, rank, world_size, seed) -> list[dict]:
    rows = []
    for width in widths:
        dist.barrier()
        model = DDP(make_model(width, seed=seed).to(X.device))
        seconds = step_seconds(model, X, y, batch_size, steps=steps, seed=seed + rank)
        flat = torch.zeros(sum(p.numel() for p in model.parameters()), device=X.device)
        times = []
        for _ in range(steps):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(flat)
            if flat.is_cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        rows.append({"width": width, "parameters": flat.numel(), "step seconds": seconds,
                     "all_reduce seconds": float(np.median(times))})
    return rows


def _threads(rank: int) -> dict:
    result = {}
    for n_threads in (1, 2):
        torch.set_num_threads(n_threads)
        dist.barrier()  # all ranks start together, as they would in training
        result[n_threads] = matmul_seconds()
    torch.set_num_threads(1)
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a torch.save'd dict with tensors X (n, 64) and y (n,)")
    parser.add_argument("--out", required=True, help="folder for results.json and the weights (rank 0 writes)")
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--width", type=int, default=64, help="hidden width of the equivalence run")
    parser.add_argument("--widths", type=int, nargs="*", default=[16, 256, 1024], help="for the speed test")
    parser.add_argument("--speed-batch-size", type=int, default=64, help="per process, for the speed test")
    parser.add_argument("--speed-steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """One worker process of the DDP job (started by ``torchrun``; see the module docstring)."""
    args = parse_args(argv)
    started = time.time()
    use_cuda = args.device == "cuda"
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    # gloo for CPU tensors; on GPUs nccl for CUDA tensors (the speed test), gloo for the rest
    dist.init_process_group("cpu:gloo,cuda:nccl" if use_cuda else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    data = torch.load(args.data)
    X, y = data["X"], data["y"]
    results = {"world size": world_size, "backend": dist.get_backend(), "n": len(X),
               "batch size per process": args.batch_size, "lr": args.lr, "epochs": args.epochs,
               "width": args.width, "seconds to first collective": time.time() - started}
    results["all_reduce demo"] = _all_reduce_demo(rank, world_size)
    results["gradient by hand max difference"] = _gradient_by_hand(X, y, rank, world_size,
                                                                   args.batch_size, args.seed)
    common = dict(rank=rank, world_size=world_size, width=args.width, batch_size=args.batch_size,
                  epochs=args.epochs, lr=args.lr, seed=args.seed)
    model, results["sharded"] = _train_ddp(X, y, **common)
    unsharded, results["unsharded"] = _train_ddp(X, y, shard=False, **common)
    losses = [None] * world_size
    dist.all_gather_object(losses, results["unsharded"]["losses"][:5])
    results["unsharded"]["first losses per rank"] = losses
    device = torch.device("cuda") if use_cuda else torch.device("cpu")
    results["speed"] = _speed(X.to(device), y.to(device), args.widths, args.speed_batch_size,
                              args.speed_steps, rank, world_size, args.seed)
    results["matmul seconds by threads"] = _threads(rank) if not use_cuda else {}
    dist.barrier()
    if rank == 0:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), out / "ddp_weights.pt")
        torch.save(unsharded.state_dict(), out / "unsharded_weights.pt")
        results["seconds in worker"] = time.time() - started
        (out / "results.json").write_text(json.dumps(results, indent=1))
    dist.destroy_process_group()


# --------------------------------------------------------------------------
# Used by the notebook (the launching side)
# --------------------------------------------------------------------------


def torchrun_command(nproc: int, script_args: list[str]) -> list[str]:
    """The command line that launches :func:`main` on ``nproc`` processes of this machine."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "helpers.distributed", *script_args]


def launch(nproc: int, script_args: list[str], timeout: float = 300) -> tuple[float, str]:
    """Run ``torchrun`` as a subprocess with one thread per process; return (wall seconds, its output).

    Raises ``RuntimeError`` with the workers' output if the job fails.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    start = time.perf_counter()
    done = subprocess.run(torchrun_command(nproc, script_args), env=env, capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"torchrun failed with status {done.returncode}:\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def read_results(out: str | Path) -> tuple[dict, dict, dict]:
    """``(results, ddp_state_dict, unsharded_state_dict)`` written by rank 0 into ``out``."""
    out = Path(out)
    if not (out / "results.json").exists():
        raise FileNotFoundError(f"{out / 'results.json'} does not exist: did the torchrun job run?")
    results = json.loads((out / "results.json").read_text())
    return results, torch.load(out / "ddp_weights.pt"), torch.load(out / "unsharded_weights.pt")


def max_weight_difference(a: dict, b: dict) -> float:
    """The largest absolute difference between two state dicts with the same keys and shapes."""
    if a.keys() != b.keys():
        raise ValueError(f"state dicts have different keys: {sorted(a)} vs {sorted(b)}")
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


if __name__ == "__main__":
    main()
