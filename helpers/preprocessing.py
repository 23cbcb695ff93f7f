"""Chapter 2: small tools for preparing data, and for showing what goes wrong when we don't.

- ``missing_report``: how many values each column of a DataFrame lacks;
- ``add_label_noise``: a copy of the labels with a chosen fraction made wrong,
  at random (symmetric noise) or always the same way (systematic noise);
- ``learning_curve_with_label_noise``: validation accuracy of a model trained
  on growing subsets of the training set, clean or with a share of wrong labels;
- ``selection_leakage``: cross-validated accuracy on *pure noise* when the
  features are selected on all the data first (leaky) and when the selection
  is refitted inside each fold (honest).

Everything takes NumPy arrays (or pandas objects) and returns plain numbers,
arrays or DataFrames; nothing here trains a PyTorch model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from helpers.checks import as_labels, check_positive_int, check_probability, to_numpy


def missing_report(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values per column of ``frame``, most incomplete first.

    Returns a DataFrame indexed by column name with ``missing`` (a count),
    ``fraction`` (of the rows, 0..1) and ``dtype``; columns with nothing
    missing are kept (with 0), so the report also lists the complete ones.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise ValueError("frame has no rows")
    missing = frame.isna().sum()
    report = pd.DataFrame(
        {
            "missing": missing.astype(int),
            "fraction": missing / len(frame),
            "dtype": frame.dtypes.astype(str),
        }
    )
    return report.sort_values("missing", ascending=False, kind="stable")


def add_label_noise(
    y,
    rate: float,
    *,
    n_classes: int | None = None,
    systematic: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """A copy of the labels ``y`` (n,) with ``round(rate * n)`` of them made wrong.

    The wrong labels are chosen at random. Each gets a *different* class:
    with ``systematic=False`` any other class, uniformly (an annotator who
    sometimes clicks at random); with ``systematic=True`` always the next
    class, ``(y + 1) % n_classes`` (an annotator who consistently confuses
    two classes). ``n_classes`` defaults to ``y.max() + 1``. ``y`` itself is
    not changed.
    """
    y = as_labels(y)
    check_probability(rate, "rate")
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    check_positive_int(n_classes, "n_classes", minimum=2)
    if y.max() >= n_classes:
        raise ValueError(f"y has label {y.max()} but n_classes is {n_classes}")
    rng = np.random.default_rng(seed)
    noisy = y.copy()
    flipped = rng.choice(len(y), size=int(round(rate * len(y))), replace=False)
    shift = 1 if systematic else rng.integers(1, n_classes, size=len(flipped))
    noisy[flipped] = (y[flipped] + shift) % n_classes
    return noisy


def learning_curve_with_label_noise(
    make_model: Callable,
    train: tuple,
    evaluate_on: tuple,
    sizes,
    *,
    label_noise: float = 0.0,
    systematic: bool = False,
    repeats: int = 3,
    seed: int = 0,
    record: tuple = (),
) -> pd.DataFrame:
    """Accuracy on ``evaluate_on`` of models trained on the first ``n`` training samples.

    ``make_model()`` returns a fresh, unfitted scikit-learn-style classifier
    (with ``fit`` and ``score``). ``train`` and ``evaluate_on`` are pairs
    ``(X, y)``. For each repeat the training set is shuffled once and a
    fraction ``label_noise`` of its labels is made wrong (see
    :func:`add_label_noise`); the model is then fitted on the first ``n``
    samples for every ``n`` in ``sizes``, so larger subsets contain the
    smaller ones. The evaluation labels are always clean.

    Returns a DataFrame with columns ``size``, ``repeat`` and ``accuracy``
    (one row per fit), plus one column per name in ``record``: that attribute
    of the fitted model (e.g. ``record=("alpha_",)`` for the regularisation
    strength a ``RidgeClassifierCV`` chose). Average over repeats with
    ``frame.groupby("size").accuracy.agg(["mean", "std"])``.
    """
    if not callable(make_model):
        raise TypeError("make_model must be a function returning a fresh model, e.g. lambda: RidgeClassifier()")
    X_train, y_train = _pair(train, "train")
    X_eval, y_eval = _pair(evaluate_on, "evaluate_on")
    sizes = [int(n) for n in np.atleast_1d(sizes)]
    if not sizes or min(sizes) < 2 or max(sizes) > len(y_train):
        raise ValueError(f"sizes must be between 2 and the training set size {len(y_train)}, got {sizes}")
    check_positive_int(repeats, "repeats")
    n_classes = int(max(y_train.max(), y_eval.max())) + 1
    rows = []
    for repeat in range(repeats):
        rng = np.random.default_rng([seed, repeat])
        order = rng.permutation(len(y_train))
        y_noisy = add_label_noise(
            y_train[order], label_noise, n_classes=n_classes, systematic=systematic, seed=int(rng.integers(2**31))
        )
        for n in sizes:
            model = make_model().fit(X_train[order[:n]], y_noisy[:n])
            row = {"size": n, "repeat": repeat, "accuracy": float(model.score(X_eval, y_eval))}
            for name in record:
                if not hasattr(model, name):
                    raise AttributeError(f"the fitted {type(model).__name__} has no attribute {name!r} to record")
                row[name] = getattr(model, name)
            rows.append(row)
    return pd.DataFrame(rows)


def _pair(data, what: str):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{what} must be a pair (X, y), got {type(data).__name__}")
    X, y = np.asarray(to_numpy(data[0])), as_labels(data[1], f"{what} y")
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"{what}: X must have shape (n, n_features) with n = len(y) = {len(y)}, got {X.shape}")
    return X, y


def selection_leakage(
    n_samples: int = 100,
    n_features: int = 2000,
    k: int = 20,
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """Cross-validated accuracy on pure noise, with and without leakage.

    The data are ``n_samples`` rows of ``n_features`` standard-normal
    features and a coin-flip label: no model can beat 50% on new data.
    A logistic regression uses the ``k`` features most correlated with the
    label (scikit-learn's ``SelectKBest`` with the ANOVA F-test).

    - ``"leaky"``: the features are selected once on *all* rows, then the
      model is cross-validated on them. The held-out folds helped choose
      the features, so the score is far above chance.
    - ``"honest"``: selection and model form one ``Pipeline``, refitted on
      the training folds only; the score stays near chance.

    Returns ``{"leaky": accuracy, "honest": accuracy}`` (means over folds).
    """
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    check_positive_int(n_samples, "n_samples", minimum=10)
    check_positive_int(n_features, "n_features", minimum=2)
    check_positive_int(folds, "folds", minimum=2)
    if check_positive_int(k, "k") > n_features:
        raise ValueError(f"k must be an integer between 1 and n_features={n_features}, got {k!r}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = rng.permutation(np.arange(n_samples) % 2)  # balanced coin flips
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)

    X_selected = SelectKBest(f_classif, k=k).fit_transform(X, y)  # looks at every row's label
    leaky = cross_val_score(LogisticRegression(), X_selected, y, cv=cv).mean()
    honest_model = make_pipeline(SelectKBest(f_classif, k=k), LogisticRegression())
    honest = cross_val_score(honest_model, X, y, cv=cv).mean()
    return {"leaky": float(leaky), "honest": float(honest)}
