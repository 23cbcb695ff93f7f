"""Checks for the exercises of Chapter 2, "Preparing the data".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# Exercise 1: impute with the training means, and say what was missing
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
# Exercise 2: one-hot encoding by hand
# --------------------------------------------------------------------------


def _check_one_hot(one_hot) -> None:
    expect_callable(one_hot, "a function one_hot(values, categories)")
    categories = ["Biscoe", "Dream", "Torgersen"]
    values = ["Dream", "Biscoe", "Dream", "Torgersen"]
    result = np.asarray(call_answer(one_hot, values, categories), dtype=float)
    if result.ndim == 1:
        raise Incorrect("you returned one number per value: that is an ordinal code; one-hot gives one column per category")
    expected = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    expect_close(result, expected, what="one_hot(values, categories)")
    try:
        unknown = np.asarray(one_hot(["Dream", "Anvers"], categories), dtype=float)
    except Exception as error:  # noqa: BLE001 - the learner's code, any failure is feedback
        raise Incorrect(
            f"a category not in `categories` made your function raise {type(error).__name__}; "
            "give it a row of zeros instead"
        ) from None
    expect_close(unknown, [[0, 1, 0], [0, 0, 0]], what="the encoding of an unknown category (a row of zeros)")
    reordered = np.asarray(one_hot(values, ["Torgersen", "Dream", "Biscoe"]), dtype=float)
    expect_close(reordered, expected[:, ::-1], what="the encoding with the categories in another order")


# --------------------------------------------------------------------------
# Exercise 3: a stratified split by hand
# --------------------------------------------------------------------------


def _check_stratified_split(stratified_split) -> None:
    expect_callable(stratified_split, "a function stratified_split(y, test_fraction, seed)")
    y = np.repeat([0, 1, 2], [400, 80, 20])
    np.random.default_rng(0).shuffle(y)
    splits = []
    for seed in (0, 1, 2):
        result = call_answer(stratified_split, y.copy(), 0.3, seed)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Incorrect("return a pair (train_indices, test_indices)")
        train, test = (np.asarray(part) for part in result)
        if train.dtype.kind not in "iu" or test.dtype.kind not in "iu":
            raise Incorrect("return integer positions into y (e.g. from np.flatnonzero), not booleans or labels")
        if len(np.intersect1d(train, test)) or len(train) + len(test) != len(y) or len(np.unique(np.r_[train, test])) != len(y):
            raise Incorrect("every sample must be in exactly one of the two parts")
        for label, count in zip(*np.unique(y, return_counts=True)):
            in_test = int((y[test] == label).sum())
            if abs(in_test - 0.3 * count) > 1:
                raise Incorrect(
                    f"class {label} has {count} samples and {in_test} of them in the test part; "
                    f"a stratified split puts about 30% of *each* class there"
                )
        splits.append(np.sort(test))
    if all(np.array_equal(splits[0], other) for other in splits[1:]):
        raise Incorrect("every seed gives the same split: shuffle each class with a generator seeded by `seed`")


# --------------------------------------------------------------------------
# Exercise 4: feature selection without leakage
# --------------------------------------------------------------------------


def _noise_and_signal(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 1000))
    y_noise = rng.permutation(np.arange(80) % 2)
    y_signal = rng.permutation(np.arange(80) % 2)
    X_signal = X.copy()
    X_signal[:, :5] += 1.5 * (2 * y_signal[:, None] - 1)  # 5 features move with the label
    return X, y_noise, X_signal, y_signal


def _check_honest_score(honest_cv_score) -> None:
    expect_callable(honest_cv_score, "a function honest_cv_score(X, y, k)")
    X, y_noise, X_signal, y_signal = _noise_and_signal(3)
    on_noise = expect_number(call_answer(honest_cv_score, X, y_noise, 10), "an accuracy (a number between 0 and 1)")
    if not 0 <= on_noise <= 1:
        raise Incorrect(f"an accuracy lies between 0 and 1, got {on_noise}")
    if on_noise > 0.7:
        raise Incorrect(
            f"on pure noise your score is {on_noise:.0%}, far above the 50% any model can really reach: "
            "the held-out folds still help choose the features"
        )
    on_signal = expect_number(call_answer(honest_cv_score, X_signal, y_signal, 10), "an accuracy")
    if on_signal < 0.75:
        raise Incorrect(
            f"when 5 of the features do predict the label, your score is only {on_signal:.0%}: "
            "select the k best features and fit a classifier on them (in each fold)"
        )


# --------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------

q1 = Exercise(
    "Exercise 1 (impute with a missing indicator)",
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

q2 = Exercise(
    "Exercise 2 (one-hot encoding)",
    answer_name="one_hot",
    checker=_check_one_hot,
    hints=[
        "Start from an array of zeros with one row per value and one column per category.",
        "Compare every value with every category at once, broadcasting a column of values against a row of "
        "categories: the booleans you get are already the answer.",
    ],
    success="one column per category, and an unknown category is a row of zeros.",
)

q3 = Exercise(
    "Exercise 3 (a stratified split)",
    answer_name="stratified_split",
    checker=_check_stratified_split,
    hints=[
        "Split each class on its own, then put the parts together.",
        "For each label, shuffle the positions of its samples with a generator seeded by `seed`, then send "
        "the first round(test_fraction x class size) of them to the test part and the rest to training.",
    ],
    success="each class keeps its share in both parts.",
)

q4 = Exercise(
    "Exercise 4 (feature selection without leakage)",
    answer_name="honest_cv_score",
    checker=_check_honest_score,
    hints=[
        "Anything fitted on data, the feature selection included, must be refitted on the training folds only.",
        "Chain the selection (SelectKBest with the F-test, k features) and a logistic regression into one "
        "pipeline, so that 5-fold cross-validation refits both in every fold; return the mean fold score.",
    ],
    success="near chance on noise, well above it when there is signal: an honest estimate.",
)
