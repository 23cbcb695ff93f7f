"""Chapter 7: hyperparameter tuning: sweeps, memory, and Optuna studies.

A *hyperparameter* is a setting that training does not learn: the learning
rate, the batch size, the width of a layer, the weight decay. This module
runs the experiments that choose them, each as one plain function:

- ``train_once``        one seeded training run (the unit every sweep repeats);
- ``lr_sweep``          the same model trained at several learning rates -> a table;
- ``grid_sweep``        every (learning rate, batch size) pair -> a long table;
- ``activation_bytes``  memory autograd keeps for the backward pass of one batch;
- ``peak_memory``       measured peak device memory of a function (CUDA only);
- ``mlp_objective``     an Optuna objective that trains an MLP and prunes bad trials;
- ``create_study``      a seeded study (TPE, random or grid) with a pruner, quiet by default;
- ``trials_table``      ``study.trials_dataframe()`` plus epochs trained and the best value so far;
- ``compare_searches``  several searches on the same budget over several seeds -> one long table.

To read a finished study use Optuna's own tools: ``study.trials_dataframe()``,
``optuna.visualization.matplotlib`` (works offline) and ``optuna.importance``.

Every run starts from the same seed, so two rows of a table differ only by
the hyperparameter that the table varies.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers.checks import check_choice, check_model_factory, check_positive, check_positive_int, check_positive_numbers
from helpers.device import choose_device, seed_everything
from helpers.train import Callback, History, fit

SWEEP_OPTIMIZERS = ("sgd", "adam")  # what train_once(optimizer=...) accepts

def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Optimizer steps in one epoch: ``ceil(n_samples / batch_size)`` (the last batch may be smaller)."""
    check_positive_int(n_samples, "n_samples")
    check_positive_int(batch_size, "batch_size")
    return math.ceil(n_samples / batch_size)


# --------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------


def _make_optimizer(name: str, parameters, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
    """``"sgd"`` (with optional momentum) or ``"adam"`` over ``parameters``: one of ``SWEEP_OPTIMIZERS``."""
    check_choice(name, "optimizer", SWEEP_OPTIMIZERS)
    check_positive(lr, "lr")
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)


def train_once(
    make_model: Callable[[], nn.Module],
    train,
    val,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    seed: int = 0,
    loss_fn: Callable | None = None,
    device=None,
    callbacks: Sequence[Callback] = (),
) -> tuple[nn.Module, History]:
    """Seed, build a fresh model, train it; return ``(model, history)``.

    The model keeps its *last* weights (no restoring of the best epoch), so a
    run that blows up shows it. A diverging run does not raise: its history
    ends at the epoch where the loss stopped being finite (see ``diverged``).
    """
    check_model_factory(make_model)
    seed_everything(seed)  # same initial weights and same shuffles for every setting
    model = make_model()
    if not isinstance(model, nn.Module):
        raise TypeError(f"make_model() must return an nn.Module, got {type(model).__name__}")
    opt = _make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is a result here, not a surprise
        history = fit(
            model,
            train,
            val,
            loss_fn=loss_fn or nn.CrossEntropyLoss(),
            optimizer=opt,
            epochs=epochs,
            batch_size=batch_size,
            callbacks=callbacks,
            device=device,
            restore_best=False,
            progress=False,
        )
    return model, history


def diverged(history: History) -> bool:
    """True when training stopped because a loss became NaN or infinite."""
    losses = history.train_loss[-1:] + history.val_loss[-1:]
    return any(not math.isfinite(v) for v in losses)


def run_summary(history: History) -> dict:
    """The columns every sweep reports for one run.

    Accuracies are fractions; ``seconds per epoch`` is the median wall time of the epochs.
    """
    if not len(history):
        raise ValueError("the history is empty: the run finished no epoch")
    has_val = bool(history.val_metric)
    final = history.val_metric[-1] if has_val else math.nan
    return {
        "val accuracy": final,
        "best val accuracy": max(history.val_metric) if has_val else math.nan,
        "final train loss": history.train_loss[-1],
        "epochs run": len(history),
        "diverged": diverged(history),
        # the median: one epoch slowed down by another program does not move it
        "seconds per epoch": float(np.median(history.seconds)),
    }


# --------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------


def lr_sweep(make_model, train, val, lrs, *, epochs: int, batch_size: int = 64, **options):
    """Train once per learning rate in ``lrs``; return ``(table, histories)``.

    ``table`` has one row per learning rate (index ``lr``) with the columns of
    :func:`run_summary`; a diverged run reports the accuracy of its last epoch.
    ``histories`` maps each learning rate to its :class:`History`.
    ``options`` go to :func:`train_once` (optimizer, momentum, seed, ...).
    """
    lrs = check_positive_numbers(lrs, "lrs")
    rows, histories = [], {}
    for lr in lrs:
        _, history = train_once(make_model, train, val, lr=lr, batch_size=batch_size, epochs=epochs, **options)
        histories[lr] = history
        rows.append({"lr": lr, **run_summary(history)})
    return pd.DataFrame(rows).set_index("lr"), histories


def grid_sweep(make_model, train, val, lrs, batch_sizes, *, epochs: int, **options) -> pd.DataFrame:
    """Every (learning rate, batch size) pair; a long table with one row per run.

    Pivot it for a heat map: ``table.pivot(index="lr", columns="batch size", values="val accuracy")``.
    """
    lrs = check_positive_numbers(lrs, "lrs")
    batch_sizes = check_positive_numbers(batch_sizes, "batch_sizes", integer=True)
    rows = []
    for batch_size in batch_sizes:
        for lr in lrs:
            _, history = train_once(make_model, train, val, lr=lr, batch_size=batch_size, epochs=epochs, **options)
            rows.append({"batch size": batch_size, "lr": lr, **run_summary(history)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------


def activation_bytes(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: Callable | None = None) -> int:
    """Bytes of the tensors autograd saves during one forward pass of ``(X, y)`` for the backward pass.

    These saved activations are the part of training memory that grows with
    the batch size (parameters, gradients and optimizer state do not). Each
    underlying storage is counted once. Works on any device; exact, not sampled.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("X and y must be tensors (one batch)")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must be one non-empty batch of equal length, got {len(X)} and {len(y)}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = next(model.parameters()).device
    parameter_ptrs = {p.data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameter_ptrs:  # weights are not activations
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    was_training = model.training
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        # A copy, so a batch sliced from a bigger tensor counts as its own size, not its parent's.
        loss = loss_fn(model(X.detach().to(device).clone()), y.detach().to(device).clone())
    del loss
    model.train(was_training)
    return int(sum(seen.values()))


def peak_memory(fn: Callable[[], object], device=None) -> int | None:
    """Peak bytes of device memory allocated while ``fn()`` runs, on CUDA; ``None`` elsewhere.

    On CUDA this is ``torch.cuda.max_memory_allocated`` after resetting the
    peak counter, minus what was allocated before. On the CPU there is no
    equivalent counter: Python's ``tracemalloc`` does not see PyTorch's CPU
    allocator, so we return ``None`` rather than a misleading number (use
    :func:`activation_bytes` to compare batch sizes on any device).
    """
    if not callable(fn):
        raise TypeError("fn must be a function with no arguments (the training run to measure)")
    device = choose_device(device)
    if device.type != "cuda":
        fn()
        return None
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device) - before)


# --------------------------------------------------------------------------
# Optuna
# --------------------------------------------------------------------------


class ReportToTrial(Callback):
    """A ``fit`` callback that reports a value to an Optuna trial every epoch and stops pruned trials.

    After ``fit`` returns, check ``callback.pruned`` and raise
    ``optuna.TrialPruned()`` if it is set (``mlp_objective`` does this).
    """

    def __init__(self, trial, monitor: str = "val_metric"):
        if monitor not in ("val_metric", "val_loss"):
            raise ValueError(f"monitor must be 'val_metric' or 'val_loss', got {monitor!r}")
        self.trial, self.monitor, self.pruned = trial, monitor, False

    def on_epoch_end(self, history, model):
        value = getattr(history, self.monitor)[-1]
        if not math.isfinite(value):  # a diverged run: report the worst value, let the pruner decide
            value = 0.0 if self.monitor == "val_metric" else 1e9
        self.trial.report(value, step=len(history))
        if self.trial.should_prune():
            self.pruned = True
            self.stop_reason = f"pruned by Optuna after epoch {len(history)}"
            return True
        return False


def default_mlp_space(trial) -> dict:
    """The search space of :func:`mlp_objective`: learning rate, width, weight decay (log scales)."""
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
        "hidden": trial.suggest_int("hidden", 8, 256, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-1, log=True),
    }


def mlp_objective(
    train,
    val,
    *,
    n_inputs: int,
    n_classes: int,
    epochs: int,
    space: Callable = default_mlp_space,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    seed: int = 0,
    device=None,
):
    """An Optuna objective: train ``mlp(n_inputs, [hidden], n_classes)`` and return the final validation accuracy.

    ``space(trial)`` returns a dict with ``lr`` and optionally ``hidden``
    (default 64), ``weight_decay`` (0), ``batch_size`` (the argument) and
    ``dropout`` (0). Every epoch the validation accuracy is
    reported to the trial; when the study's pruner says so, the trial stops
    and raises ``optuna.TrialPruned``. Trial ``k`` is seeded with ``seed + k``.
    """
    import optuna

    from helpers.models import mlp

    if not callable(space):
        raise TypeError("space must be a function trial -> dict of hyperparameters")
    check_positive_int(epochs, "epochs")

    def objective(trial) -> float:
        params = space(trial)
        if not isinstance(params, dict) or "lr" not in params:
            raise ValueError(f"space(trial) must return a dict with at least 'lr', got {params!r}")
        hidden, dropout = int(params.get("hidden", 64)), float(params.get("dropout", 0.0))
        callback = ReportToTrial(trial)
        _, history = train_once(
            lambda: mlp(n_inputs, [hidden], n_classes, dropout=dropout),
            train,
            val,
            lr=params["lr"],
            batch_size=int(params.get("batch_size", batch_size)),
            epochs=epochs,
            optimizer=optimizer,
            momentum=momentum,
            weight_decay=params.get("weight_decay", 0.0),
            seed=seed + trial.number,
            device=device,
            callbacks=[callback],
        )
        if callback.pruned:
            raise optuna.TrialPruned()
        return run_summary(history)["val accuracy"]

    return objective


SAMPLERS = ("tpe", "random")  # what create_study(sampler=...) accepts by name; a dict means a grid


def create_study(seed: int = 0, pruner="median", direction: str = "maximize", quiet: bool = True, *,
                 sampler="tpe", storage=None, study_name: str | None = None):
    """A seeded Optuna study: ``sampler`` ``"tpe"`` (default), ``"random"``, or a dict of values (a grid).

    The sampler is seeded with ``seed`` (``TPESampler(seed=seed)``, ``RandomSampler(seed=seed)``,
    ``GridSampler(grid, seed=seed)``, which visits the grid in a seeded order), so a study is
    reproducible when its objective is. ``pruner`` is ``"median"`` (stop a trial whose value is
    below the median of earlier trials at the same epoch), ``"hyperband"``, ``None`` (no pruning)
    or any ``optuna.pruners`` object. ``storage`` and ``study_name`` go to
    ``optuna.create_study`` (e.g. an ``optuna.storages.JournalStorage`` that keeps every trial in
    a file, so a study can be reloaded with ``optuna.load_study``). ``quiet`` silences Optuna's
    per-trial log lines.
    """
    import optuna

    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    if pruner == "median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    elif pruner == "hyperband":
        pruner = optuna.pruners.HyperbandPruner()
    elif pruner is None:
        pruner = optuna.pruners.NopPruner()
    elif not isinstance(pruner, optuna.pruners.BasePruner):
        raise ValueError(f"pruner must be 'median', 'hyperband', None or an optuna pruner, got {pruner!r}")
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    if isinstance(sampler, dict):
        sampler = optuna.samplers.GridSampler(sampler, seed=seed)
    elif sampler == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif sampler == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif not isinstance(sampler, optuna.samplers.BaseSampler):
        raise ValueError(f"sampler must be 'tpe', 'random', a dict of grid values or an optuna sampler, got {sampler!r}")
    return optuna.create_study(direction=direction, sampler=sampler, pruner=pruner,
                               storage=storage, study_name=study_name)


def trials_table(study) -> pd.DataFrame:
    """``study.trials_dataframe()`` with two columns added, for comparing searches.

    ``epochs``: how many values the trial reported (the epochs it trained: fewer when pruned or
    diverged); ``best so far``: the best completed value up to and including this trial.
    """
    if not hasattr(study, "trials_dataframe"):
        raise TypeError(f"expected an optuna Study, got {type(study).__name__}")
    if not study.trials:
        raise ValueError("the study has no trials yet: call study.optimize(objective, n_trials=...) first")
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params"))
    frame["state"] = frame["state"].astype(str).str.replace("TrialState.", "", regex=False)
    frame["epochs"] = [len(t.intermediate_values) for t in study.trials]
    values = frame["value"].where(frame["state"] == "COMPLETE")
    maximize = study.direction.name == "MAXIMIZE"
    # cummax leaves NaN where a trial has no value (pruned, failed): carry the best forward instead
    frame["best so far"] = (values.cummax() if maximize else values.cummin()).ffill()
    return frame


def compare_searches(objective_for_seed: Callable, searches: dict, seeds: Sequence[int], n_trials: int,
                     *, storage=None) -> pd.DataFrame:
    """Run one study per (search, seed) on the same budget; one row per trial, all studies stacked.

    ``searches`` maps a name to the keyword arguments of :func:`create_study` (``sampler``,
    ``pruner``); ``objective_for_seed(seed)`` returns the objective for that seed (the same for
    every search, so the searches differ only in how they choose). Each study is named
    ``"<name>, seed <seed>"`` in ``storage`` (Optuna's in-memory storage when ``None``). The
    table is :func:`trials_table` with ``search`` and ``seed`` columns.
    """
    import optuna

    if not searches or not isinstance(searches, dict):
        raise ValueError("searches must be a non-empty dict: name -> keyword arguments of create_study")
    check_positive_int(n_trials, "n_trials")
    storage = storage if storage is not None else optuna.storages.InMemoryStorage()
    tables = []
    for seed in seeds:
        objective = objective_for_seed(seed)
        for name, options in searches.items():
            study = create_study(seed=seed, storage=storage, study_name=f"{name}, seed {seed}", **options)
            study.optimize(objective, n_trials=n_trials)
            tables.append(trials_table(study).assign(search=name, seed=seed))
    return pd.concat(tables, ignore_index=True)
