"""Chapter 12: what training costs, measured and counted.

Plain functions, each readable on its own:

- ``threads(n)``: a context manager that sets ``torch.set_num_threads`` and restores it;
- ``time_to_target``: train with ``helpers.train.fit`` until the validation accuracy
  reaches a target; seconds to the target, epochs, and the median seconds per epoch;
- ``fit_power_law`` / ``power_law_over_repeats``: ``y = a * x**k`` fitted on log-log
  axes, and the exponent's mean and spread over repeated sweeps;
- ``mlp_parameters`` / ``training_flops``: parameter counts and the ``6 * N * D`` rule
  for the FLOPs of forward + backward passes; ``counted_flops`` counts them exactly
  with ``torch.utils.flop_counter.FlopCounterMode``;
- ``matmul_flops_per_second``: the machine's practical peak, from a large matrix product;
- ``seconds_per_step``: the median time of one training step (forward, backward, update);
- ``profile_step``: ``torch.profiler``'s table of the operators of one training step.

Times are wall-clock seconds (``time.perf_counter``), FLOPs are floating-point
operations (a multiply-add counts as 2), FLOP/s is FLOPs per second.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers.train import Callback, EarlyStopping, fit


@contextlib.contextmanager
def threads(n: int):
    """Run the ``with`` block with ``torch.set_num_threads(n)``, then restore the old value."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of threads must be a positive integer, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class StopAtTarget(Callback):
    """Stop ``fit`` at the end of the first epoch whose validation accuracy reaches ``target``."""

    def __init__(self, target: float):
        if not 0.0 < target <= 1.0:
            raise ValueError(f"target must be an accuracy in (0, 1], got {target!r}")
        self.target = target
        self.stop_reason = f"validation accuracy reached {target}"

    def on_epoch_end(self, history, model) -> bool:
        return bool(history.val_metric) and history.val_metric[-1] >= self.target


def time_to_target(
    make_model: Callable[[], nn.Module],
    train,
    val,
    *,
    target: float,
    max_epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    device: str | torch.device = "cpu",
    patience: int | None = None,
) -> dict:
    """Train ``make_model()`` with Adam until the validation accuracy reaches ``target``.

    With ``patience``, also give up once the validation loss has not improved for that many
    epochs (a learning rate that diverges or stalls then costs a few epochs, not ``max_epochs``).

    ``train`` and ``val`` are ``(X, y)`` tensor pairs. Returns a dict with
    ``seconds to target`` (wall-clock seconds from the first to the end of the
    epoch that reached the target, validation included; NaN if it never did),
    ``epochs to target`` (NaN likewise), ``seconds per epoch`` (median over the
    epochs run) and ``reached`` (bool).
    """
    if not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs!r}")
    callbacks = [StopAtTarget(target)]
    if patience is not None:
        callbacks.append(EarlyStopping(patience=patience))
    torch.manual_seed(seed)
    model = make_model()
    history = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), lr=lr, epochs=max_epochs,
                  batch_size=batch_size, callbacks=callbacks, device=device,
                  mixed_precision=False, restore_best=False, progress=False)
    reached = bool(history.val_metric) and history.val_metric[-1] >= target
    return {
        "seconds to target": float(sum(history.seconds)) if reached else math.nan,
        "epochs to target": float(len(history)) if reached else math.nan,
        "seconds per epoch": float(np.median(history.seconds)),
        "reached": reached,
    }


def training_time_sweep(
    setting: str,
    values: Sequence,
    run: Callable[[object, int], dict],
    repeats: Sequence[int],
) -> pd.DataFrame:
    """Measure ``run(value, seed)`` (a :func:`time_to_target` result) for every value and repeat.

    Returns one row per (repeat, value): the columns ``setting``, ``value``, ``repeat`` and the
    keys of the result. Repeats are the outer loop, so a noisy minute slows one whole sweep
    rather than one value.
    """
    if not len(values) or not len(repeats):
        raise ValueError("values and repeats must not be empty")
    rows = []
    for repeat in repeats:
        for value in values:
            rows.append({"setting": setting, "value": value, "repeat": repeat, **run(value, repeat)})
    return pd.DataFrame(rows)


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of ``y = a * x**k`` on log-log axes; returns ``(k, a)``.

    ``x`` and ``y`` are positive numbers of the same length (at least 2); NaN pairs are dropped.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 2:
        raise ValueError("a power law needs at least two finite points")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("a power law is fitted on log axes: x and y must be positive")
    k, log_a = np.polyfit(np.log(x), np.log(y), 1)
    return float(k), float(math.exp(log_a))


def power_law_over_repeats(table: pd.DataFrame, x: str, y: str, repeat: str = "repeat") -> dict:
    """Fit ``y ~ x**k`` separately for each repeat of a sweep; the exponent's mean, sd and each value.

    ``table`` has one row per (repeat, x) with columns ``x``, ``y`` and ``repeat``.
    """
    for column in (x, y, repeat):
        if column not in table:
            raise ValueError(f"table has no column {column!r}; it has {list(table.columns)}")
    exponents = [fit_power_law(group[x], group[y])[0] for _, group in table.groupby(repeat)]
    return {"exponent": float(np.mean(exponents)),
            "sd": float(np.std(exponents, ddof=1)) if len(exponents) > 1 else math.nan,
            "exponents": exponents}


def mlp_parameters(sizes: Sequence[int]) -> int:
    """Weights and biases of an MLP with layer widths ``sizes`` (inputs, hidden..., outputs)."""
    sizes = _check_sizes(sizes)
    return int(sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])))


def training_flops(n_parameters: float, n_examples: float) -> float:
    """The rule of thumb ``6 * N * D``: FLOPs to train ``N`` parameters on ``D`` examples (or tokens).

    2 N per example for the forward pass (a multiply and an add per weight), 4 N for the
    backward pass (gradients with respect to the weights and to the layer inputs).
    """
    for name, value in (("n_parameters", n_parameters), ("n_examples", n_examples)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return 6.0 * float(n_parameters) * float(n_examples)


def counted_flops(model: nn.Module, X: torch.Tensor, y: torch.Tensor, backward: bool = True) -> int:
    """FLOPs of one forward (and backward) pass of ``model`` on the batch ``(X, y)``, counted by
    ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions only)."""
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    counter = FlopCounterMode(display=False)
    with counter:
        loss = nn.functional.cross_entropy(model(X), y)
        if backward:
            loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def matmul_flops_per_second(size: int = 1024, repeats: int = 5, dtype=torch.float32) -> float:
    """The median FLOP/s of ``size x size`` matrix products: a practical peak for this machine.

    Uses the current ``torch.get_num_threads()``; one product is ``2 * size**3`` FLOPs.
    """
    if not isinstance(size, int) or size < 16:
        raise ValueError(f"size must be an integer of at least 16, got {size!r}")
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator, dtype=torch.float32).to(dtype)
    b = torch.randn(size, size, generator=generator, dtype=torch.float32).to(dtype)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2.0 * size**3 / float(np.median(times))


def seconds_per_step(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int = 64,
    steps: int = 20,
    warmup: int = 3,
    autocast_dtype: torch.dtype | None = None,
) -> float:
    """Median wall-clock seconds of one SGD step (batch slice, forward, backward, update) on the CPU.

    ``autocast_dtype=torch.bfloat16`` runs forward and loss in ``torch.autocast("cpu")``.
    """
    if not isinstance(batch_size, int) or not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be an integer in [1, {len(X)}], got {batch_size!r}")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    autocast = (torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype is not None
                else contextlib.nullcontext())
    generator = torch.Generator().manual_seed(0)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        idx = torch.randint(len(X), (batch_size,), generator=generator)
        with autocast:
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def profile_step(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, steps: int = 3,
                 top: int = 8) -> pd.DataFrame:
    """Profile ``steps`` SGD steps on the batch ``(X, y)`` with ``torch.profiler``.

    Returns the ``top`` operators by total self CPU time: calls, self CPU ms per step and
    the share of the profiled time.
    """
    from torch.profiler import ProfilerActivity, profile

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        loss = nn.functional.cross_entropy(model(X), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up outside the profile
    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    rows = [(e.key, e.count // steps, e.self_cpu_time_total / 1000 / steps) for e in prof.key_averages()]
    table = pd.DataFrame(rows, columns=["operator", "calls per step", "self CPU ms per step"])
    table = table.sort_values("self CPU ms per step", ascending=False).reset_index(drop=True)
    table["share"] = table["self CPU ms per step"] / table["self CPU ms per step"].sum()
    return table.head(top)


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (the profiler's C++ library logs its start and stop there)."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some notebook front-ends): nothing to silence
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _check_sizes(sizes: Iterable[int]) -> list[int]:
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                                 for s in sizes):
        raise ValueError(f"sizes must list at least two positive integer layer widths, got {sizes!r}")
    return [int(s) for s in sizes]
