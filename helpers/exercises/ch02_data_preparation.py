"""Checks for the exercises of Chapter 2, "Preparing the data".

- q1 ``prediction_scaler_leak`` (predict, then run): how much a scaler fitted on all the data moves the score;
- q2 ``impute_with_indicator`` (implement): mean imputation with training means, plus missing indicators;
- q3 ``diagnosis`` (diagnose): why a colleague's validation score is too good;
- q4 ``group_split`` (implement): a train/test split that keeps every group on one side;
- q5 ``scaling_experiment`` (experiment): centring or scaling, each with its own tuned learning rate,
  verified by gradient descent runs the checker makes itself.

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import functools

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close

# --------------------------------------------------------------------------
# Exercise 1: predict, then run
# --------------------------------------------------------------------------

PREDICTIONS = ("higher", "about the same", "lower")


def _check_prediction(prediction) -> None:
    if not isinstance(prediction, str) or prediction.strip().lower() not in PREDICTIONS:
        raise Incorrect(f"set prediction_scaler_leak to one of {', '.join(repr(p) for p in PREDICTIONS)}")
    answer = prediction.strip().lower()
    if answer == "higher":
        raise Incorrect("the run below disagrees: it is a leak, but a scaler learns only a mean and a standard "
                        "deviation per feature, and the validation birds barely move them. Run it and compare "
                        "the change with its spread.")
    if answer == "lower":
        raise Incorrect("the run below disagrees: a leak can only make the validation score optimistic, and this "
                        "one is too small to move it at all. Run it and see.")


# --------------------------------------------------------------------------
# Exercise 2: impute with the training means, and say what was missing
# --------------------------------------------------------------------------


def _arrays_with_gaps(seed: int):
    rng = np.random.default_rng(seed)
    X_train = rng.normal(loc=[10.0, -5.0, 0.0], scale=[2.0, 1.0, 3.0], size=(40, 3))
    X_new = rng.normal(loc=[30.0, 5.0, 1.0], scale=1.0, size=(12, 3))  # shifted: its own means differ
    X_train[rng.random(X_train.shape) < 0.2] = np.nan
    X_new[rng.random(X_new.shape) < 0.3] = np.nan
    X_new[0, :] = np.nan  # a row with nothing measured
    return X_train, X_new


def _imputed_by_sklearn(X_train, X):
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy="mean").fit(X_train).transform(X)


def _check_impute(impute_with_indicator) -> None:
    expect_callable(impute_with_indicator, "a function impute_with_indicator(X_train, X)")
    X_train, X_new = _arrays_with_gaps(5)
    train_copy, new_copy = X_train.copy(), X_new.copy()
    result = np.asarray(call_answer(impute_with_indicator, X_train, X_new), dtype=float)
    if not (np.array_equal(train_copy, X_train, equal_nan=True) and np.array_equal(new_copy, X_new, equal_nan=True)):
        raise Incorrect("your function changed its inputs; work on a copy (e.g. X.copy())")
    n, d = X_new.shape
    if result.shape == (n, d):
        raise Incorrect(f"the result has shape {result.shape}: append one missing-indicator column per feature")
    if result.shape != (n, 2 * d):
        raise Incorrect(f"expected shape {(n, 2 * d)} (the {d} imputed features, then {d} indicators), got {result.shape}")
    if np.isnan(result).any():
        raise Incorrect("the result still contains NaN")
    missing = np.isnan(X_new)
    expect_close(result[:, d:], missing.astype(float), what="the indicator columns (1 where the value was missing)")
    own_means = np.nanmean(X_new, axis=0)
    if np.allclose(result[:, :d][missing], np.broadcast_to(own_means, X_new.shape)[missing]):
        raise Incorrect("you filled the gaps with the means of X itself; use the means of the *training* data")
    if np.allclose(result[:, :d][missing], 0.0):
        raise Incorrect("you filled the gaps with 0; use the mean of each column of the training data")
    expect_close(result[:, :d], _imputed_by_sklearn(X_train, X_new), what="the imputed features")


# --------------------------------------------------------------------------
# Exercise 3: diagnose
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "the scaler sits inside the pipeline, so it is fitted on the training rows only; and exercise 1 "
         "measured that even a scaler fitted on all the rows leaves the score unchanged.",
    "C": "a model that overfits does *worse* on validation data, not better; and the same 1-nearest-neighbour "
         "model scored far lower on the real data in section 6.",
    "D": "the two sexes are about equally frequent (the run prints the dummy's score, about 50%), so accuracy "
         "is a fair measure here.",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}")


# --------------------------------------------------------------------------
# Exercise 4: a group split by hand
# --------------------------------------------------------------------------


def _check_group_split(group_split) -> None:
    expect_callable(group_split, "a function group_split(groups, test_fraction, seed)")
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 6, size=40)  # 40 groups of 1 to 5 rows, in shuffled order
    groups = rng.permutation(np.repeat(np.array([f"bird{i}" for i in range(40)]), sizes))
    n_groups = 40
    tests = []
    for seed in (0, 1, 2):
        result = call_answer(group_split, groups.copy(), 0.25, seed)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Incorrect("return a pair (train_indices, test_indices)")
        train, test = (np.asarray(part) for part in result)
        if train.dtype.kind not in "iu" or test.dtype.kind not in "iu":
            raise Incorrect("return integer positions into groups (e.g. from np.flatnonzero), not booleans or names")
        both = np.concatenate([train, test])
        if len(both) != len(groups) or len(np.unique(both)) != len(groups) or both.min() < 0 or both.max() >= len(groups):
            raise Incorrect("every row must be in exactly one of the two parts")
        shared = np.intersect1d(groups[train], groups[test])
        if len(shared):
            raise Incorrect(f"{len(shared)} groups (e.g. {shared[0]!r}) have rows on both sides: "
                            "send whole groups, never single rows")
        n_test_groups = len(np.unique(groups[test]))
        if n_test_groups != int(round(0.25 * n_groups)):
            raise Incorrect(f"with {n_groups} groups and test_fraction 0.25 the test part should hold "
                            f"{int(round(0.25 * n_groups))} whole groups; yours holds {n_test_groups}")
        tests.append(np.sort(test))
    if all(np.array_equal(tests[0], other) for other in tests[1:]):
        raise Incorrect("every seed gives the same split: choose the test groups with a generator seeded by `seed`")


# --------------------------------------------------------------------------
# Exercise 5: centre or scale? An experiment with a tuned rate for each
# --------------------------------------------------------------------------

GD_STEPS = 200
TOLERANCE = 0.05  # the learner's rate must reach the best loss on a fine grid within this much
VERSIONS = ("centre only", "scale only")


def _softmax_gd_final_loss(X, y, learning_rate, steps=GD_STEPS, n_classes=3) -> float:
    """The chapter's full-batch softmax regression: the training loss before the last step."""
    n, d = X.shape
    W, b = np.zeros((d, n_classes)), np.zeros(n_classes)
    Y = np.eye(n_classes)[y]
    loss = np.nan
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(steps):
            Z = X @ W + b
            Z = Z - Z.max(axis=1, keepdims=True)
            log_P = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            loss = -log_P[np.arange(n), y].mean()
            G = (np.exp(log_P) - Y) / n
            W, b = W - learning_rate * X.T @ G, b - learning_rate * G.sum(axis=0)
    return float(loss) if np.isfinite(loss) else np.inf


@functools.lru_cache(maxsize=1)
def _scaling_versions():
    """The training birds of the chapter's split with seed 0, centred only and scaled only."""
    from sklearn.model_selection import train_test_split

    from helpers.data import PENGUIN_MEASUREMENTS, load_penguins_frame

    measured = load_penguins_frame().dropna(subset=PENGUIN_MEASUREMENTS)
    rest, _ = train_test_split(measured, test_size=0.2, random_state=0, stratify=measured["species"])
    train, _ = train_test_split(rest, test_size=0.25, random_state=0, stratify=rest["species"])
    classes = sorted(measured["species"].unique())
    X = train[PENGUIN_MEASUREMENTS].to_numpy(float)
    y = train["species"].map({name: i for i, name in enumerate(classes)}).to_numpy()
    return {"centre only": X - X.mean(axis=0), "scale only": X / X.std(axis=0)}, y


@functools.lru_cache(maxsize=1)
def _best_losses():
    versions, y = _scaling_versions()
    grid = 10.0 ** np.arange(-10, 3.01, 0.5)
    return {name: min(_softmax_gd_final_loss(X, y, lr) for lr in grid) for name, X in versions.items()}


def _check_scaling_experiment(answer) -> None:
    if not isinstance(answer, dict) or set(answer) != {*VERSIONS, "more important"}:
        raise Incorrect('set scaling_experiment to a dict with the keys "centre only", "scale only" '
                        '(your best learning rate for each) and "more important" ("centre" or "scale")')
    versions, y = _scaling_versions()
    best = _best_losses()
    for name in VERSIONS:
        rate = answer[name]
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) \
                or not np.isfinite(rate) or rate <= 0:
            raise Incorrect(f'the learning rate for "{name}" must be a positive number, got {rate!r}')
        loss = _softmax_gd_final_loss(versions[name], y, float(rate))
        if not np.isfinite(loss) or loss > np.log(3) + 0.01:
            raise Incorrect(f'with a learning rate of {rate:g}, gradient descent on the "{name}" features '
                            f"diverges (training loss {loss:.3g} after {GD_STEPS} steps, worse than a uniform "
                            "guess): try smaller rates")
        if loss > best[name] + TOLERANCE:
            raise Incorrect(f'with a learning rate of {rate:g}, the "{name}" features reach a training loss of '
                            f"{loss:.3f} after {GD_STEPS} steps, but a better rate reaches {best[name]:.3f}: "
                            "search a wider grid (several orders of magnitude, both ways) and take its best value")
    claim = answer["more important"]
    if not isinstance(claim, str) or claim.strip().lower() not in ("centre", "scale"):
        raise Incorrect('set "more important" to "centre" or "scale"')
    if claim.strip().lower() == "centre":
        raise Incorrect(f"your two tuned runs disagree: centring alone reaches a loss of about "
                        f"{best['centre only']:.2f}, scaling alone about {best['scale only']:.2f}")


# --------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------

q1 = Exercise(
    "Exercise 1 (predict, then run: a scaler fitted on all the data)",
    kind="predict",
    answer_name="prediction_scaler_leak",
    checker=_check_prediction,
    hints=[
        "Think about how much information about the validation birds a fitted StandardScaler can carry.",
        "It keeps two numbers per feature. Adding a fifth of the birds to the data they are computed from moves "
        "a mean by a small fraction of a standard deviation: compare that with the distances between species.",
    ],
    success="a leak in principle, no measurable effect here: the run below shows it. Feature selection, which "
            "looks at the labels, was another matter.",
)

q2 = Exercise(
    "Exercise 2 (impute with a missing indicator)",
    kind="implement",
    answer_name="impute_with_indicator",
    checker=_check_impute,
    hints=[
        "Compute each column's mean on the training data, skipping the gaps (NumPy has a NaN-aware mean); "
        "a boolean mask of where X is NaN gives the indicators.",
        "Where the mask is true take the column's training mean, elsewhere keep X's value; then put the mask, "
        "as floats, to the right of the filled array.",
    ],
    success="gaps filled with the training means, and the model can still see where they were.",
)

q3 = Exercise(
    "Exercise 3 (diagnose: a score too good to be true)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Ask of each row of the colleague's validation set: does the training set hold something it should not?",
        "Follow one bird through the code: where do its copies end up after the random split, and what does a "
        "1-nearest-neighbour model do with a validation row whose near-twin is in training?",
    ],
    success="the copies of one bird land on both sides of a split made after the augmentation. Split (by bird) "
            "first, then augment the training part only: the next cell does it.",
)

q4 = Exercise(
    "Exercise 4 (a group split)",
    kind="implement",
    answer_name="group_split",
    checker=_check_group_split,
    hints=[
        "Decide the split for groups, not for rows: first choose which groups go to the test part.",
        "Take the distinct group names, shuffle them with a generator seeded by `seed`, keep the first "
        "round(test_fraction x number of groups) as test groups, then turn group membership into row positions.",
    ],
    success="whole groups on each side, chosen at random: what GroupShuffleSplit does.",
)

q5 = Exercise(
    "Exercise 5 (experiment: centre or scale?)",
    kind="experiment",
    answer_name="scaling_experiment",
    checker=_check_scaling_experiment,
    hints=[
        "A fair comparison gives each version its own learning rate, chosen from a grid wide enough that the "
        "best value is not at either end.",
        "Build the two versions of the training features from their training mean and standard deviation; for "
        "each, run the chapter's softmax_regression_gd for 200 steps at every rate of a grid of powers of ten "
        "(from far too small to divergent), keep the rate with the lowest final training loss, then compare "
        "the two best losses.",
    ],
    success="each version tuned on its own grid: dividing by the standard deviation does most of the work, "
            "centring alone leaves the features' very different scales in place.",
)
