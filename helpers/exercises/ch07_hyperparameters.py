"""Checks for the exercises of Chapter 7, "Hyperparameters".

- q1 ``prediction_raw`` (predict, then run): the best learning rate on raw pixels vs standardised ones;
- q2 ``diagnosis`` (diagnose): why batch 512 looked worse than batch 32;
- q3 ``log_uniform`` (implement): log-uniform draws with a NumPy generator;
- q4 ``my_space`` (implement, Optuna's API): a search space;
- q5 ``full_batch_lr`` (experiment): a learning rate for full-batch gradient descent, verified by a run.

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# q1: predict, then run
# --------------------------------------------------------------------------

PREDICTIONS = ("larger", "about the same", "smaller")


def _check_prediction(prediction) -> None:
    if not isinstance(prediction, str) or prediction.strip().lower() not in PREDICTIONS:
        raise Incorrect(f"set prediction_raw to one of {', '.join(repr(p) for p in PREDICTIONS)}")
    answer = prediction.strip().lower()
    if answer == "larger":
        raise Incorrect("the run below disagrees: pixels up to 16 make the loss steeper (the curvature grows "
                        "with the square of the input scale), and a steeper bowl needs a smaller step.")
    if answer == "about the same":
        raise Incorrect("the run below disagrees: the scale of the inputs sets the curvature of the loss, "
                        "and the curvature sets the largest stable step (2 / a on the bowl).")


q1 = Exercise(
    "Exercise 1 (predict, then run: the learning rate for raw pixels)",
    kind="predict",
    answer_name="prediction_raw",
    checker=_check_prediction,
    hints=[
        "On the bowl, the largest stable learning rate is 2 / a: what sets a for a linear layer?",
        "For a linear model the curvature of the loss grows with the square of the input scale; raw pixels "
        "are several times larger than standardised ones.",
    ],
    success="inputs several times larger make the loss many times steeper, so the best step is many times "
    "smaller; standardising the inputs is also what lets one learning rate suit every pixel.",
)

# --------------------------------------------------------------------------
# q2: diagnose
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "that is a hypothesis about tuned runs; here the larger batch was not tuned. The next cell gives each "
         "batch size its own best learning rate: look how much of the gap is left.",
    "C": "the gap is many times the seed standard deviation printed beside it, so the split tells them apart.",
    "D": "only validation accuracies were printed and compared; nothing touched the test set.",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}")


q2 = Exercise(
    "Exercise 2 (diagnose: large batches generalise worse?)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Look at what differs between the two runs besides the batch size, and at what stayed the same.",
        "How many steps does batch 512 take in 10 epochs, and what did Section 3 say a larger batch needs "
        "to make the same progress with fewer steps?",
    ],
    success="a batch size is only judged fairly at its own tuned learning rate (and, at a fixed number of "
    "epochs, a larger batch also takes fewer steps).",
)

# --------------------------------------------------------------------------
# q3: log-uniform sampling
# --------------------------------------------------------------------------


def _check_log_uniform(log_uniform) -> None:
    expect_callable(log_uniform, "a function log_uniform(low, high, size, rng)")
    draws = call_answer(log_uniform, 1e-4, 1.0, 20_000, np.random.default_rng(0))
    draws = np.asarray(draws, dtype=float)
    if draws.shape != (20_000,):
        raise Incorrect(f"expected an array of shape (20000,) for size=20000, got {draws.shape}")
    if draws.min() < 1e-4 * (1 - 1e-9) or draws.max() > 1.0 * (1 + 1e-9):
        raise Incorrect("some draws fall outside [low, high]")
    per_decade = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1, 0])[0] / len(draws)
    if per_decade[-1] > 0.8:
        raise Incorrect("almost all draws fall in the top decade: that is uniform sampling; draw the logarithm uniformly")
    if np.abs(per_decade - 0.25).max() > 0.03:
        raise Incorrect(f"the fractions per decade are {np.round(per_decade, 3)}, expected about 0.25 each")
    again = np.asarray(call_answer(log_uniform, 1e-4, 1.0, 5, np.random.default_rng(1)), dtype=float)
    same = np.asarray(call_answer(log_uniform, 1e-4, 1.0, 5, np.random.default_rng(1)), dtype=float)
    if not np.array_equal(again, same):
        raise Incorrect("two generators with the same seed gave different draws: use `rng`, not np.random")
    narrow = np.asarray(call_answer(log_uniform, 2.0, 8.0, 10_000, np.random.default_rng(2)), dtype=float)
    expect_close(np.median(narrow), 4.0, rtol=0.05, what="the median of draws between 2 and 8 (their geometric mean)")


q3 = Exercise(
    "Exercise 3 (drawing learning rates on a log scale)",
    kind="implement",
    answer_name="log_uniform",
    checker=_check_log_uniform,
    hints=[
        "Draw uniformly between log(low) and log(high), then undo the logarithm.",
        "Draw `size` exponents uniformly between log(low) and log(high) with the seeded generator, then "
        "exponentiate them.",
    ],
    success="this is what scipy.stats.loguniform and Optuna's suggest_float(..., log=True) do.",
)

# --------------------------------------------------------------------------
# q4: an Optuna search space
# --------------------------------------------------------------------------


def _check_my_space(my_space) -> None:
    import optuna

    expect_callable(my_space, "a function my_space(trial)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    params = call_answer(my_space, trial)
    if not isinstance(params, dict):
        raise Incorrect(f"my_space should return a dict, got {type(params).__name__}")
    if set(params) != {"lr", "batch_size", "dropout"}:
        raise Incorrect(f"expected the keys 'lr', 'batch_size', 'dropout', got {sorted(params)}")
    dists = trial.distributions
    for name in params:
        if name not in dists:
            raise Incorrect(f"{name!r} was not suggested by the trial under the name {name!r}")
    lr = dists["lr"]
    if not isinstance(lr, optuna.distributions.FloatDistribution):
        raise Incorrect("'lr' should come from trial.suggest_float")
    if not lr.log:
        raise Incorrect("'lr' should be sampled on a log scale: pass log=True")
    if not (math.isclose(lr.low, 1e-4) and math.isclose(lr.high, 1.0)):
        raise Incorrect(f"'lr' should range from 1e-4 to 1, got {lr.low} to {lr.high}")
    batch = dists["batch_size"]
    if not isinstance(batch, optuna.distributions.CategoricalDistribution):
        raise Incorrect("'batch_size' should come from trial.suggest_categorical")
    if sorted(batch.choices) != [32, 64, 128]:
        raise Incorrect(f"'batch_size' should be one of 32, 64, 128, got choices {list(batch.choices)}")
    dropout = dists["dropout"]
    if not isinstance(dropout, optuna.distributions.FloatDistribution):
        raise Incorrect("'dropout' should come from trial.suggest_float")
    if dropout.log:
        raise Incorrect("'dropout' should be on a linear scale (a log scale cannot include 0)")
    if not (math.isclose(dropout.low, 0.0) and math.isclose(dropout.high, 0.5)):
        raise Incorrect(f"'dropout' should range from 0 to 0.5, got {dropout.low} to {dropout.high}")
    for key in params:
        if params[key] != trial.params[key]:
            raise Incorrect(f"return the suggested value for {key!r}, not another one")


q4 = Exercise(
    "Exercise 4 (an Optuna search space)",
    kind="implement",
    answer_name="my_space",
    checker=_check_my_space,
    hints=[
        "Each entry is one call on the trial, named like the key: trial.suggest_float('lr', ...).",
        "lr: a float from 1e-4 to 1.0 on a log scale; batch_size: a choice among 32, 64 and 128; "
        "dropout: a float from 0.0 to 0.5.",
    ],
    success="Optuna records each distribution, so TPE models lr on a log scale; "
    "tuning.mlp_objective(..., space=my_space) would tune exactly these three.",
)

# --------------------------------------------------------------------------
# q5: experiment: a learning rate for full-batch gradient descent, verified by a run
# --------------------------------------------------------------------------

FULL_BATCH_TARGET = 0.96
FULL_BATCH_EPOCHS = 20
CHECK_SEEDS = (0, 1, 2)


@functools.lru_cache(maxsize=1)
def _digits():
    from helpers.data import load

    digits = load("digits", seed=0).standardized()
    return digits.tensors("train", "cpu"), digits.tensors("val", "cpu"), digits.n_features, digits.n_classes


@functools.lru_cache(maxsize=16)
def _full_batch_run(lr: float) -> tuple[float, bool]:
    """Mean validation accuracy over CHECK_SEEDS, and whether any run diverged."""
    import torch

    from helpers.models import mlp
    from helpers.tuning import diverged, run_summary, train_once

    train, val, n_features, n_classes = _digits()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        accuracies, any_diverged = [], False
        for seed in CHECK_SEEDS:
            _, history = train_once(lambda: mlp(n_features, [64], n_classes), train, val, lr=lr,
                                    batch_size=len(train[1]), epochs=FULL_BATCH_EPOCHS, seed=seed, device="cpu")
            accuracies.append(run_summary(history)["val accuracy"])
            any_diverged = any_diverged or diverged(history)
    finally:
        torch.set_num_threads(threads)
    return float(np.mean(accuracies)), any_diverged


def _check_full_batch_lr(full_batch_lr) -> None:
    lr = expect_number(full_batch_lr, "a learning rate (a positive number)")
    if not math.isfinite(lr) or lr <= 0:
        raise Incorrect(f"a learning rate must be a positive number, got {lr}")
    if lr > 1e3:
        raise Incorrect(f"{lr:g} is far beyond any stable step: every run would diverge at once")
    accuracy, blew_up = _full_batch_run(lr)
    if blew_up:
        raise Incorrect(f"with lr = {lr:g} training diverged (the loss stopped being finite): you are above "
                        "the ceiling; back off")
    if accuracy < FULL_BATCH_TARGET:
        direction = "larger" if lr < 2.0 else "a little smaller"
        raise Incorrect(f"with lr = {lr:g} the mean validation accuracy over {len(CHECK_SEEDS)} seeds is "
                        f"{accuracy:.3f}, below {FULL_BATCH_TARGET}; try a {direction} learning rate")


q5 = Exercise(
    "Exercise 5 (experiment: tune full-batch gradient descent)",
    kind="experiment",
    answer_name="full_batch_lr",
    checker=_check_full_batch_lr,
    hints=[
        "Twenty full-batch steps is very few: each step has to go far, so the learning rate must be large, "
        "but not above the point of divergence.",
        "Look at the full-batch column of Section 3's grid: which learning rates trained, and which diverged? "
        "Try a few values on a log scale between the best one there and the first one that diverged.",
    ],
    success="a large batch takes few steps, so it needs (and, with a less noisy gradient, tolerates) a larger "
    "learning rate; the ceiling is still there, just higher.",
)
