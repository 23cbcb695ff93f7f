"""helpers.tuning: sweeps, memory accounting and Optuna helpers, on tiny problems."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from helpers import tuning
from helpers.models import mlp

matplotlib.use("Agg")
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def blobs():
    """Two well-separated Gaussian blobs: (train, val) pairs of tensors, 2 features, 2 classes."""
    g = torch.Generator().manual_seed(0)

    def make(n):
        y = torch.arange(n) % 2
        X = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None].float() * 2 - 1) * 2
        return X, y

    return make(64), make(32)


def make_model():
    return mlp(2, [8], 2)


# --------------------------------------------------------------------------
# single runs
# --------------------------------------------------------------------------


def test_steps_per_epoch_rounds_up_and_rejects_bad_input():
    assert tuning.steps_per_epoch(100, 32) == 4
    assert tuning.steps_per_epoch(96, 32) == 3
    assert tuning.steps_per_epoch(5, 10) == 1
    for bad in [(0, 3), (10, 0)]:
        with pytest.raises(ValueError, match="positive integer"):
            tuning.steps_per_epoch(*bad)
    for bad in [(10, 2.5), (True, 2)]:
        with pytest.raises(TypeError, match="positive integer"):
            tuning.steps_per_epoch(*bad)


def test_train_once_is_reproducible(blobs):
    train, val = blobs
    _, first = tuning.train_once(make_model, train, val, lr=0.1, batch_size=16, epochs=3, seed=3, device="cpu")
    _, second = tuning.train_once(make_model, train, val, lr=0.1, batch_size=16, epochs=3, seed=3, device="cpu")
    assert first.train_loss == second.train_loss and first.val_metric == second.val_metric


def test_divergence_is_reported_not_raised(blobs):
    train, val = blobs
    _, history = tuning.train_once(make_model, train, val, lr=1e6, batch_size=8, epochs=5, device="cpu")
    assert tuning.diverged(history)
    summary = tuning.run_summary(history)
    assert summary["diverged"] and summary["epochs run"] < 5


def test_train_once_rejects_bad_input(blobs):
    train, val = blobs
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop': expected one of 'sgd', 'adam'"):
        tuning.train_once(make_model, train, val, lr=0.1, batch_size=8, epochs=1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="lr must be > 0"):
        tuning.train_once(make_model, train, val, lr=0.0, batch_size=8, epochs=1)
    with pytest.raises(TypeError, match="make_model must be a function"):
        tuning.train_once(mlp(2, [8], 2), train, val, lr=0.1, batch_size=8, epochs=1)
    with pytest.raises(TypeError, match="must return an nn.Module"):
        tuning.train_once(lambda: "model", train, val, lr=0.1, batch_size=8, epochs=1)


def test_run_summary_needs_an_epoch():
    with pytest.raises(ValueError, match="empty"):
        tuning.run_summary(tuning.History())


# --------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------


def test_lr_sweep_table(blobs):
    train, val = blobs
    table, histories = tuning.lr_sweep(make_model, train, val, [1e-4, 0.3, 1e6], epochs=4, batch_size=16, device="cpu")
    assert list(table.index) == [1e-4, 0.3, 1e6] and table.index.name == "lr"
    assert {"val accuracy", "final train loss", "diverged", "seconds per epoch"} <= set(table.columns)
    assert set(histories) == {1e-4, 0.3, 1e6}
    assert table.loc[0.3, "val accuracy"] > table.loc[1e-4, "val accuracy"]  # blobs are easy at a good rate
    assert table.loc[1e6, "diverged"] and not table.loc[0.3, "diverged"]


@pytest.mark.parametrize(
    "lrs, error, match",
    [
        ([], ValueError, "empty"),
        ([0.1, -1.0], ValueError, "> 0"),
        ([0.1, math.nan], ValueError, "> 0"),
        ([0.1, 0.1], ValueError, "repeated"),
        (["0.1"], TypeError, "numbers"),
        (0.1, TypeError, "list of numbers"),
    ],
)
def test_lr_sweep_rejects_bad_learning_rates(blobs, lrs, error, match):
    train, val = blobs
    with pytest.raises(error, match=match):
        tuning.lr_sweep(make_model, train, val, lrs, epochs=1)


def test_grid_sweep_has_one_row_per_pair(blobs):
    train, val = blobs
    table = tuning.grid_sweep(make_model, train, val, [0.01, 0.1], [8, 32], epochs=2, device="cpu")
    assert len(table) == 4
    heat = table.pivot(index="lr", columns="batch size", values="val accuracy")
    assert heat.shape == (2, 2)


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------


def test_activation_bytes_counts_saved_tensors_linearly_in_the_batch():
    model = mlp(64, [64], 10)
    X, y = torch.randn(256, 64), torch.randint(0, 10, (256,))
    small = tuning.activation_bytes(model, X[:8], y[:8])
    large = tuning.activation_bytes(model, X[:128], y[:128])
    # per sample: the input and the ReLU output (64 float32 each; the ReLU output is also the
    # second layer's input, counted once), the log-softmax (10 float32) and the label (int64)
    per_sample = 2 * 64 * 4 + 10 * 4 + 8
    assert large - small == (128 - 8) * per_sample
    assert small < 2 * 8 * per_sample  # a slice of a big tensor counts as its own size


def test_activation_bytes_rejects_bad_input():
    model = mlp(4, [4], 2)
    with pytest.raises(TypeError, match="nn.Module"):
        tuning.activation_bytes("model", torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(TypeError, match="tensors"):
        tuning.activation_bytes(model, np.zeros((2, 4)), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="equal length"):
        tuning.activation_bytes(model, torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))


def test_peak_memory_runs_the_function_and_is_none_off_cuda():
    calls = []
    assert tuning.peak_memory(lambda: calls.append(1), "cpu") is None
    assert calls == [1]
    with pytest.raises(TypeError, match="function"):
        tuning.peak_memory(42, "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_peak_memory_on_cuda_sees_a_big_tensor():
    peak = tuning.peak_memory(lambda: torch.ones(1024, 1024, device="cuda").sum().item(), "cuda")
    assert peak >= 4 * 1024 * 1024


# --------------------------------------------------------------------------
# Optuna
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_blobs():
    """Overlapping blobs, so that trials differ in accuracy (importances need some variance)."""
    g = torch.Generator().manual_seed(1)

    def make(n):
        y = torch.arange(n) % 2
        X = torch.randn(n, 2, generator=g) * 1.5 + (y[:, None].float() * 2 - 1)
        return X, y

    return make(64), make(64)


def _small_study(blobs, seed=0, n_trials=8, pruner="median"):
    train, val = blobs
    objective = tuning.mlp_objective(train, val, n_inputs=2, n_classes=2, epochs=4, seed=seed, device="cpu")
    study = tuning.create_study(seed=seed, pruner=pruner)
    study.optimize(objective, n_trials=n_trials)
    return study


def test_seeded_study_is_reproducible(blobs):
    first, second = _small_study(blobs), _small_study(blobs)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [t.value for t in first.trials] == [t.value for t in second.trials]


def test_pruning_callback_stops_trials():
    class AlwaysPrune:
        number = 0

        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return True

    trial = AlwaysPrune()
    callback = tuning.ReportToTrial(trial)
    history = tuning.History(epoch=[1], val_metric=[0.5], val_loss=[0.7])
    assert callback.on_epoch_end(history, None) is True
    assert callback.pruned and trial.reports == [(1, 0.5)]
    with pytest.raises(ValueError, match="monitor"):
        tuning.ReportToTrial(trial, monitor="accuracy")


def test_objective_raises_trial_pruned_when_told(blobs):
    train, val = blobs
    objective = tuning.mlp_objective(train, val, n_inputs=2, n_classes=2, epochs=3, device="cpu")

    class Trial:
        number = 0
        params = {}

        def suggest_float(self, name, low, high, log=False):
            return 0.1 if name == "lr" else 1e-5

        def suggest_int(self, name, low, high, log=False):
            return 8

        def report(self, value, step):
            pass

        def should_prune(self):
            return True

    with pytest.raises(optuna.TrialPruned):
        objective(Trial())


def test_objective_and_study_reject_bad_input(blobs):
    train, val = blobs
    with pytest.raises(TypeError, match="space"):
        tuning.mlp_objective(train, val, n_inputs=2, n_classes=2, epochs=2, space="lr")
    with pytest.raises(ValueError, match="epochs"):
        tuning.mlp_objective(train, val, n_inputs=2, n_classes=2, epochs=0)
    bad_space = tuning.mlp_objective(train, val, n_inputs=2, n_classes=2, epochs=1, space=lambda t: {"width": 3})
    study = tuning.create_study(pruner=None)
    with pytest.raises(ValueError, match="at least 'lr'"):
        bad_space(study.ask())
    with pytest.raises(ValueError, match="pruner"):
        tuning.create_study(pruner="sometimes")
    with pytest.raises(ValueError, match="direction"):
        tuning.create_study(direction="up")


def test_trials_table_adds_epochs_and_best_so_far(noisy_blobs):
    study = _small_study(noisy_blobs, n_trials=10)
    frame = tuning.trials_table(study)
    assert len(frame) == 10
    assert {"number", "value", "state", "epochs", "best so far", "params_lr", "params_hidden"} <= set(frame.columns)
    assert set(frame["state"]) <= {"COMPLETE", "PRUNED"}
    assert (frame["best so far"].dropna().diff().dropna() >= 0).all()
    first_complete = frame.index[frame["state"] == "COMPLETE"][0]
    assert frame["best so far"].loc[first_complete:].notna().all(), "pruned trials carry the best so far forward"
    assert frame["best so far"].iloc[-1] == study.best_value
    assert (frame.loc[frame["state"] == "PRUNED", "epochs"] < 4).all()


def test_create_study_samplers_and_storage():
    storage = optuna.storages.InMemoryStorage()
    grid = tuning.create_study(sampler={"x": [0.0, 1.0]}, pruner=None, storage=storage, study_name="grid")
    grid.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert sorted(t.params["x"] for t in grid.trials) == [0.0, 1.0]
    assert isinstance(tuning.create_study(sampler="random").sampler, optuna.samplers.RandomSampler)
    assert optuna.load_study(study_name="grid", storage=storage).best_value == 1.0
    with pytest.raises(ValueError, match="sampler"):
        tuning.create_study(sampler="bayes")


def test_compare_searches_runs_every_search_on_every_seed():
    def objective_for_seed(seed):
        return lambda t: -((t.suggest_float("x", -1, 1) - 0.3) ** 2) + 0.0 * seed

    searches = {"random": {"sampler": "random", "pruner": None}, "grid": {"sampler": {"x": [-1.0, 0.0, 1.0]},
                                                                          "pruner": None}}
    table = tuning.compare_searches(objective_for_seed, searches, seeds=[0, 1], n_trials=3)
    assert len(table) == 2 * 2 * 3 and set(table["search"]) == {"random", "grid"}
    grid_best = table[table["search"] == "grid"].groupby("seed")["best so far"].last()
    assert (grid_best == -0.09).all()  # the grid's best point is x = 0
    with pytest.raises(ValueError, match="searches"):
        tuning.compare_searches(objective_for_seed, {}, seeds=[0], n_trials=1)
    with pytest.raises(TypeError, match="optuna Study"):
        tuning.trials_table(pd.DataFrame())
    with pytest.raises(ValueError, match="no trials"):
        tuning.trials_table(tuning.create_study())
