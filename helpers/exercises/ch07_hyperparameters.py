"""Checks for the exercises of Chapter 7, "Hyperparameters".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# q1: gradient descent on a bowl
# --------------------------------------------------------------------------


def _bowl(lr, curvature, w0, steps):
    return w0 * (1 - lr * curvature) ** np.arange(steps + 1)


def _check_descend_bowl(descend_bowl) -> None:
    expect_callable(descend_bowl, "a function descend_bowl(lr, curvature, w0, steps)")
    path = call_answer(descend_bowl, 0.1, 3.0, 2.0, 5)
    values = np.asarray(path, dtype=float) if not hasattr(path, "detach") else path.detach().numpy()
    if values.ndim != 1:
        raise Incorrect(f"return a 1-D array of iterates, got shape {values.shape}")
    if len(values) == 5:
        raise Incorrect("you returned `steps` values; include the starting point w0 too (steps + 1 values)")
    if len(values) != 6:
        raise Incorrect(f"for steps=5 expected 6 iterates w_0..w_5, got {len(values)}")
    if not math.isclose(values[0], 2.0):
        raise Incorrect("the first iterate should be w0 itself")
    if math.isclose(values[1], 2.0 - 0.1 * 2.0):
        raise Incorrect("the gradient of curvature / 2 * w**2 is curvature * w, not w: multiply by the curvature")
    expect_close(values, _bowl(0.1, 3.0, 2.0, 5), what="the iterates for lr=0.1, curvature=3, w0=2")
    for lr_times_a, converges in ((1.9, True), (2.1, False)):
        end = abs(float(np.asarray(call_answer(descend_bowl, lr_times_a / 4.0, 4.0, 1.0, 60))[-1]))
        if converges and not end < 1e-1:
            raise Incorrect(f"with lr * curvature = {lr_times_a} the iterates should shrink towards 0")
        if not converges and not end > 10:
            raise Incorrect(f"with lr * curvature = {lr_times_a} the iterates should grow without bound")


q1 = Exercise(
    "Exercise 1 (gradient descent on a bowl)",
    answer_name="descend_bowl",
    checker=_check_descend_bowl,
    hints=[
        "The derivative of (a / 2) * w**2 is a * w; one step is w - lr * a * w.",
        "Start a list with w0, append `steps` new values, and return np.array of the list (steps + 1 values).",
    ],
    success="each step multiplies w by (1 - lr * curvature), so it converges exactly when that factor is in (-1, 1).",
)

# --------------------------------------------------------------------------
# q2: learning-rate scaling rules
# --------------------------------------------------------------------------


def _check_scaled_lr(scaled_lr) -> None:
    expect_callable(scaled_lr, "a function scaled_lr(base_lr, base_batch_size, batch_size, rule)")
    linear = expect_number(call_answer(scaled_lr, 0.1, 32, 256, "linear"), "a learning rate")
    if math.isclose(linear, 0.1 * 32 / 256):
        raise Incorrect("the ratio is upside down: a larger batch should get a larger learning rate")
    expect_close(linear, 0.8, what="the linear rule from batch 32 to 256 with base lr 0.1")
    expect_close(expect_number(call_answer(scaled_lr, 0.3, 128, 64, "linear")), 0.15,
                 what="the linear rule for a smaller batch")
    root = expect_number(call_answer(scaled_lr, 0.1, 32, 128, "sqrt"), "a learning rate")
    if math.isclose(root, 0.4):
        raise Incorrect("for rule='sqrt' use the square root of the batch-size ratio")
    expect_close(root, 0.2, what="the square-root rule from batch 32 to 128")
    try:
        scaled_lr(0.1, 32, 64, "cubic")
    except ValueError:
        pass
    except Exception as error:  # noqa: BLE001 - the message names what was raised
        raise Incorrect(f"an unknown rule should raise ValueError, not {type(error).__name__}") from None
    else:
        raise Incorrect("an unknown rule such as 'cubic' should raise ValueError")


q2 = Exercise(
    "Exercise 2 (scaling the learning rate with the batch size)",
    answer_name="scaled_lr",
    checker=_check_scaled_lr,
    hints=[
        "Compute the ratio batch_size / base_batch_size first; the rules differ only in what they do with it.",
        "The linear rule multiplies base_lr by the ratio, the square-root rule by its square root; any other "
        "rule name is an error (a ValueError).",
    ],
    success="remember that both rules are first guesses: check the new learning rate with a short sweep.",
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
# q5: report the test score of the configuration chosen on validation
# --------------------------------------------------------------------------


def _results_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lr": [0.001, 0.01, 0.1, 1.0, 3.0],
            "val accuracy": [0.41, 0.90, 0.97, 0.95, 0.12],
            "test accuracy": [0.40, 0.91, 0.95, 0.96, 0.10],
        },
        index=pd.Index([10, 11, 12, 13, 14], name="trial"),
    )


def _check_reported_accuracy(reported_accuracy) -> None:
    expect_callable(reported_accuracy, "a function reported_accuracy(results)")
    table = _results_table()
    value = expect_number(call_answer(reported_accuracy, table.copy()), "an accuracy (a float)")
    if math.isclose(value, 0.96):
        raise Incorrect("that is the best *test* accuracy: choosing by test makes the test number optimistic")
    if math.isclose(value, 0.97):
        raise Incorrect("that is the validation accuracy of the chosen configuration; report its test accuracy")
    expect_close(value, 0.95, what="the reported accuracy")
    shuffled = table.sample(frac=1.0, random_state=0)
    expect_close(expect_number(call_answer(reported_accuracy, shuffled)), 0.95,
                 what="the reported accuracy when the rows come in another order")


q5 = Exercise(
    "Exercise 5 (reporting the result of a search)",
    answer_name="reported_accuracy",
    checker=_check_reported_accuracy,
    hints=[
        "Two steps: find the row with the highest validation accuracy, then read its test accuracy.",
        "pandas gives the index label of a column's largest value (idxmax); read that row's test accuracy "
        "with .loc.",
    ],
    success="the test split only measures the choice; it never makes it.",
)
