"""Chapter 12: a hyperparameter search run by several worker processes that share one Optuna study.

Each worker is an ordinary process (on this machine, or on any machine that sees the
same file system) running::

    python helpers/parallel_search.py --journal study.log --study demo --worker A

(run as a file, not with ``python -m helpers.parallel_search``: the package's ``__init__``
imports torch, which would cost each worker a second or two of start-up for nothing).

All workers open the same study in an ``optuna.storages.JournalStorage`` backed by one
append-only file (``JournalFileBackend``): every trial a worker starts or finishes is a
line in that file, so the others see it, and a study whose workers died can be reopened
and continued by new ones. (An RDB storage such as ``sqlite:///study.db`` or a
PostgreSQL URL plays the same part across machines.)

The search is a grid (``optuna.samplers.GridSampler``), so one worker and several
workers evaluate the same points and must reach the same best value. The objective is a
stand-in for training: the validation error of ridge regression, solved in closed form with
NumPy in a millisecond, padded with a sleep of ``--trial-seconds`` that plays the part of
the training run. Sleeping does not compete for the CPU, so the wall-time comparison
measures how the workers share the work, not how busy the machine is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna

ALPHAS = [float(f"{a:.3g}") for a in np.logspace(-3, 3, 8)]
SEARCH_SPACE = {"alpha": ALPHAS, "features": ["linear", "quadratic"]}


def _problem(seed: int = 0):
    """A fixed regression problem: 200 training and 200 validation rows, 8 inputs, a curved target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 8))
    y = X @ rng.normal(size=8) + 0.5 * (X[:, 0] ** 2) + rng.normal(scale=0.5, size=400)
    return X[:200], y[:200], X[200:], y[200:]


def validation_error(alpha: float, features: str) -> float:
    """Validation mean squared error of ridge regression with penalty ``alpha`` (closed form)."""
    if features not in SEARCH_SPACE["features"]:
        raise ValueError(f"features must be one of {SEARCH_SPACE['features']}, got {features!r}")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}")
    X_train, y_train, X_val, y_val = _problem()

    def expand(X):
        columns = [np.ones((len(X), 1)), X] + ([X**2] if features == "quadratic" else [])
        return np.hstack(columns)

    A, B = expand(X_train), expand(X_val)
    w = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ y_train)
    return float(np.mean((B @ w - y_val) ** 2))


def best_on_grid() -> float:
    """The lowest validation error over the whole grid, computed directly (no Optuna)."""
    return min(validation_error(a, f) for a in SEARCH_SPACE["alpha"] for f in SEARCH_SPACE["features"])


def storage(journal: str | Path) -> optuna.storages.JournalStorage:
    """The study's shared storage: one append-only journal file."""
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))


def run_worker(journal: str | Path, study_name: str, worker: str, trial_seconds: float = 0.25) -> None:
    """Join (or create) the study and evaluate grid points until every point has a finished trial."""
    if trial_seconds < 0:
        raise ValueError(f"trial_seconds must be non-negative, got {trial_seconds!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=study_name, storage=storage(journal), direction="minimize",
                                sampler=optuna.samplers.GridSampler(SEARCH_SPACE), load_if_exists=True)

    def objective(trial: optuna.Trial) -> float:
        alpha = trial.suggest_categorical("alpha", SEARCH_SPACE["alpha"])
        features = trial.suggest_categorical("features", SEARCH_SPACE["features"])
        trial.set_user_attr("worker", worker)
        time.sleep(trial_seconds)  # stands in for training a model
        return validation_error(alpha, features)

    # The grid sampler stops the study once every grid point has a finished trial.
    study.optimize(objective, n_trials=None)


def start_worker(journal: str | Path, study_name: str, worker: str, trial_seconds: float = 0.25) -> subprocess.Popen:
    """Start one worker process (``python .../parallel_search.py ...``); returns its ``Popen``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--journal", str(journal),
               "--study", study_name, "--worker", worker, "--trial-seconds", str(trial_seconds)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_workers(journal: str | Path, study_name: str, n_workers: int, trial_seconds: float = 0.25,
                timeout: float = 120) -> float:
    """Run ``n_workers`` worker processes on one study until it is done; return the wall seconds."""
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    start = time.perf_counter()
    workers = [start_worker(journal, study_name, f"worker {i}", trial_seconds) for i in range(n_workers)]
    for process in workers:
        output, _ = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed with status {process.returncode}:\n{output[-3000:]}")
    return time.perf_counter() - start


def trials_table(journal: str | Path, study_name: str):
    """One row per trial of the study: number, state, worker, parameters, value, start and end times."""
    study = optuna.load_study(study_name=study_name, storage=storage(journal))
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs",
                                          "datetime_start", "datetime_complete"))
    return frame.rename(columns={"user_attrs_worker": "worker", "params_alpha": "alpha",
                                 "params_features": "features"})


def search_seconds(table) -> float:
    """Seconds from the first trial's start to the last trial's end (process start-up left out)."""
    return float((table["datetime_complete"].max() - table["datetime_start"].min()).total_seconds())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="One worker of a shared Optuna grid search.")
    parser.add_argument("--journal", required=True, help="the journal file shared by all workers")
    parser.add_argument("--study", required=True)
    parser.add_argument("--worker", required=True, help="a name recorded with each trial")
    parser.add_argument("--trial-seconds", type=float, default=0.25)
    args = parser.parse_args(argv)
    run_worker(args.journal, args.study, args.worker, args.trial_seconds)


if __name__ == "__main__":
    main()
