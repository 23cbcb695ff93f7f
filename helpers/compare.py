"""Chapter 3: compare models fairly: same data, same test split, one table of evidence.

    from sklearn.linear_model import LogisticRegression
    from helpers.data import load
    from helpers.models import CNN1D

    data = load("mnist1d").standardized()
    models = {
        "logistic regression": LogisticRegression(max_iter=1000),
        "CNN": TorchClassifier(CNN1D(), epochs=10),
    }
    table = compare(models, data)   # one row per model, columns as below

Every model is fitted on ``data.train`` and scored on ``data.test``, so the
numbers in one table are comparable. The models in the dict are fitted in
place: after ``compare`` you can still plot or inspect them.

What the columns mean:

- **test accuracy**: fraction of the test split classified correctly;
- **train time (s)**: wall-clock seconds of ``fit`` (noisy on a shared machine);
- **predict time (ms / 1000)**: milliseconds to classify 1000 samples (the
  best of a few repeats, to damp the noise);
- **parameters**: how many numbers the fitted model stores to make a
  prediction, with **counted as** saying which numbers. A linear model stores
  its weights; a tree its nodes; an SVM its support vectors; k-nearest
  neighbours the whole training set. They are not the same kind of number,
  but the order of magnitude tells how big the model is.

Choosing fairly: ``tune_by_cv`` tunes one model family on its own small
grid by k-fold cross-validation on the development data (``data.train`` and
``data.val`` together), ``compare_cv`` does that for every contender and
returns one row each (mean ± sd over the folds), and ``test_once`` refits a
chosen setting on all the development data and scores it, once, on
``data.test``. Every model is standardised inside each fold with that fold's
training statistics (``Standardized``), so no held-out row shapes the
preprocessing.

Also here: ``compare_by_training_size`` (the same comparison repeated on
growing slices of the training set: a learning curve per model),
``side_by_side`` (one column of several tables) and ``model_size`` (the
count behind the parameters column).

PyTorch models are wrapped in :class:`TorchClassifier`, which trains them
through ``helpers.train.fit`` and gives them scikit-learn's ``fit`` /
``predict`` interface, so the two kinds of model go through the same code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers.checks import as_labels, check_features_and_targets, check_model, check_positive, check_positive_int, to_numpy
from helpers.data import DataSet
from helpers.models import count_parameters
from helpers.train import History, fit, predict

COLUMNS = ["test accuracy", "train time (s)", "predict time (ms / 1000)", "parameters", "counted as"]


# --------------------------------------------------------------------------
# PyTorch models behind scikit-learn's fit / predict
# --------------------------------------------------------------------------


@dataclass
class TorchClassifier:
    """A PyTorch classifier with scikit-learn's ``fit(X, y)`` / ``predict(X)``.

    ``module`` maps a batch ``(n, ...)`` to logits ``(n, n_classes)``; it is
    trained with cross-entropy and Adam through ``helpers.train.fit``.
    ``fit(X, y, val=(X_val, y_val))`` also keeps the weights of the epoch
    with the lowest validation loss. The ``History`` of the last fit is kept
    in ``history``.
    """

    module: nn.Module
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    device: str | torch.device | None = None
    history: History | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        check_model(self.module, "module")
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive(self.lr, "lr")

    def fit(self, X, y, val=None) -> "TorchClassifier":
        """Train on ``X`` (n, ...) float features and ``y`` (n,) integer labels."""
        X, y = np.asarray(to_numpy(X), dtype=np.float32), as_labels(y, "y")
        check_features_and_targets(X, y)
        if val is not None:
            val = (np.asarray(val[0], dtype=np.float32), np.asarray(val[1]))
        optimizer = torch.optim.Adam(self.module.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        self.history = fit(
            self.module,
            (X, y),
            val,
            loss_fn=nn.CrossEntropyLoss(),
            optimizer=optimizer,
            epochs=self.epochs,
            batch_size=self.batch_size,
            device=self.device,
        )
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted class labels ``(n,)`` for features ``X`` (n, ...)."""
        if self.history is None:
            raise RuntimeError("this TorchClassifier is not fitted yet: call fit(X, y) first")
        logits = predict(self.module, np.asarray(X, dtype=np.float32))
        return logits.argmax(dim=1).numpy()

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)``, like scikit-learn's ``score``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


# --------------------------------------------------------------------------
# How big is a fitted model?
# --------------------------------------------------------------------------


def _tree_nodes(tree_estimator) -> int:
    return int(tree_estimator.tree_.node_count)


def model_size(model) -> tuple[int | str, str]:
    """``(count, what was counted)`` for a fitted model; ``("-", "")`` if unknown.

    - PyTorch (``TorchClassifier`` or ``nn.Module``): trainable weights;
    - linear models (``coef_``): weights and biases;
    - a single tree: its nodes; a forest or boosted ensemble: nodes of all trees;
    - SVM with a kernel: support vectors x features, plus their coefficients;
    - k-nearest neighbours: the stored training set (samples x features);
    - a ``Pipeline``: its last step.
    """
    if isinstance(model, Standardized):
        return model_size(model.model)
    if isinstance(model, TorchClassifier):
        model = model.module
    if isinstance(model, nn.Module):
        return count_parameters(model), "weights"
    if hasattr(model, "steps"):  # a scikit-learn Pipeline
        return model_size(model.steps[-1][1])
    if hasattr(model, "support_vectors_"):
        n = model.support_vectors_.size + model.dual_coef_.size + model.intercept_.size
        return int(n), "support vectors"
    if hasattr(model, "coefs_"):  # scikit-learn's MLPClassifier
        n = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        return int(n), "weights"
    if hasattr(model, "coef_"):
        n = model.coef_.size + np.size(getattr(model, "intercept_", 0))
        return int(n), "weights"
    if hasattr(model, "tree_"):
        return _tree_nodes(model), "tree nodes"
    if hasattr(model, "estimators_") and hasattr(model, "n_estimators"):  # a random forest
        trees = np.ravel(model.estimators_)
        if all(hasattr(t, "tree_") for t in trees):
            return int(sum(_tree_nodes(t) for t in trees)), "tree nodes"
    if hasattr(model, "_predictors"):  # histogram gradient boosting (no public node count)
        return int(sum(len(p.nodes) for per_class in model._predictors for p in per_class)), "tree nodes"
    if hasattr(model, "n_samples_fit_"):  # k-nearest neighbours keeps the training set
        return int(model.n_samples_fit_ * model.n_features_in_), "stored training values"
    return "-", ""


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def prediction_ms_per_1000(predict_fn: Callable, X, repeats: int = 3) -> float:
    """Milliseconds ``predict_fn`` takes per 1000 rows of ``X`` (the best of ``repeats`` runs)."""
    if not callable(predict_fn):
        raise TypeError("predict_fn must be a function such as model.predict")
    check_positive_int(repeats, "repeats")
    n = len(X)
    if n == 0:
        raise ValueError("X is empty: need at least one sample to time predictions")
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        predict_fn(X)
        best = min(best, time.perf_counter() - start)
    return 1000 * best * 1000 / n


def _check_estimator(name, model) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"model names must be non-empty strings, got {name!r}")
    if isinstance(model, nn.Module):
        raise TypeError(
            f"model {name!r} is a bare torch.nn.Module; wrap it to say how to train it, "
            "e.g. TorchClassifier(module, epochs=10)"
        )
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise TypeError(
            f"model {name!r} must have fit(X, y) and predict(X) (a scikit-learn estimator "
            f"or a TorchClassifier), got {type(model).__name__}"
        )


def _check_data(data) -> None:
    if not isinstance(data, DataSet):
        raise TypeError(f"data must be a helpers.data.DataSet (from helpers.data.load), got {type(data).__name__}")
    if data.task != "classification":
        raise ValueError(f"compare() measures accuracy, so it needs a classification data set; {data.name!r} is a {data.task}")


def fit_and_measure(model, data: DataSet, use_val: bool = True) -> dict:
    """Fit ``model`` on ``data.train`` (in place) and measure it on ``data.test``.

    Returns one row of the comparison table as a dict (see ``COLUMNS``).
    A ``TorchClassifier`` also gets ``data.val`` to pick its best epoch
    when ``use_val`` is true.
    """
    _check_data(data)
    _check_estimator(type(model).__name__, model)
    X_train, y_train = data.train.X, data.train.y
    start = time.perf_counter()
    if isinstance(model, TorchClassifier) and use_val:
        model.fit(X_train, y_train, val=(data.val.X, data.val.y))
    else:
        model.fit(X_train, y_train)
    train_seconds = time.perf_counter() - start
    predicted = np.asarray(model.predict(data.test.X))
    accuracy = float(np.mean(predicted == data.test.y))
    ms = prediction_ms_per_1000(model.predict, data.test.X)
    count, counted_as = model_size(model)
    return dict(zip(COLUMNS, [accuracy, train_seconds, ms, count, counted_as]))


def compare(models: dict, data: DataSet, use_val: bool = True, verbose: bool = False) -> pd.DataFrame:
    """Fit every model in ``models`` (name -> model) on the same ``data``; one row each.

    Models are fitted in place, in the order of the dict. ``verbose=True``
    prints each model's name as it starts (useful when some are slow).
    """
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict {name: model}")
    _check_data(data)
    for name, model in models.items():
        _check_estimator(name, model)
    rows = {}
    for name, model in models.items():
        if verbose:
            print(f"fitting {name} ...", flush=True)
        rows[name] = fit_and_measure(model, data, use_val=use_val)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    frame.index.name = "model"
    frame["parameters"] = frame["parameters"].astype(object)
    return frame


def side_by_side(results: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """One column of several comparison tables, side by side (models x data sets).

    ``side_by_side({"digits": a, "MNIST-1D": b}, "test accuracy")`` gives a
    table with a row per model and a column per data set; a model missing
    from one table gets NaN there.
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict {data set name: comparison table}")
    for name, frame in results.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"results[{name!r}] must be a DataFrame from compare(), got {type(frame).__name__}")
        if column not in frame.columns:
            raise ValueError(f"results[{name!r}] has no column {column!r}; expected one of {list(frame.columns)}")
    order = list(dict.fromkeys(name for frame in results.values() for name in frame.index))
    table = pd.DataFrame({name: frame[column] for name, frame in results.items()}).reindex(order)
    table.index.name = "model"
    return table


def compare_by_training_size(
    make_models: dict[str, Callable], data: DataSet, train_sizes, seed: int = 0, use_val: bool = True,
    score_on: str = "test",
) -> pd.DataFrame:
    """Test accuracy and training time of fresh models fitted on growing slices of ``data.train``.

    ``make_models`` maps a name to a function ``make(n)`` that returns a new,
    unfitted model for a training set of ``n`` samples (so a neural network
    can, say, run more epochs on a smaller slice and take the same number of
    steps). Each slice is a stratified random subset of ``data.train``, the
    same for every model. A ``TorchClassifier`` watches ``data.val`` to keep
    its best epoch when ``use_val`` is true (which costs an evaluation per
    epoch: many epochs on a small slice make that the larger cost).
    ``score_on="val"`` scores on ``data.val`` instead of ``data.test`` (for
    comparisons that are still choosing; then ``use_val`` must be false).
    Returns one row per (training samples, model) with the columns
    ``test accuracy`` (``validation accuracy``) and ``train time (s)``.
    """
    _check_data(data)
    if score_on not in ("test", "val"):
        raise ValueError(f"score_on must be 'test' or 'val', got {score_on!r}")
    if score_on == "val" and use_val:
        raise ValueError("scoring on data.val while the networks pick their epoch on it leaks: pass use_val=False")
    scored = data.split(score_on)
    column = "test accuracy" if score_on == "test" else "validation accuracy"
    if not isinstance(make_models, dict) or not make_models:
        raise TypeError("make_models must be a non-empty dict {name: function of n returning a new model}")
    for name, make in make_models.items():
        if not callable(make):
            raise TypeError(f"make_models[{name!r}] must be a function of n returning a new model, got {type(make).__name__}")
    sizes = [int(s) for s in train_sizes]
    n_train = len(data.train)
    for size in sizes:
        if not data.n_classes <= size <= n_train:
            raise ValueError(f"each training size must be between {data.n_classes} and {n_train}, got {size}")
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        keep = _stratified_subset(data.train.y, size, rng)
        X, y = data.train.X[keep], data.train.y[keep]
        for name, make in make_models.items():
            model = make(size)
            _check_estimator(name, model)
            start = time.perf_counter()
            if isinstance(model, TorchClassifier) and use_val:
                model.fit(X, y, val=(data.val.X, data.val.y))
            else:
                model.fit(X, y)
            seconds = time.perf_counter() - start
            accuracy = float(np.mean(np.asarray(model.predict(scored.X)) == scored.y))
            rows.append({"training samples": size, "model": name, column: accuracy, "train time (s)": seconds})
    return pd.DataFrame(rows)


def _stratified_subset(y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` samples of ``y`` keeping the class proportions (every class at least once)."""
    if size >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(y)), train_size=size, stratify=y, random_state=int(rng.integers(2**31))
    )
    return np.sort(keep)


# --------------------------------------------------------------------------
# Choosing fairly: a grid per model, cross-validation, the test set once
# --------------------------------------------------------------------------

CV_COLUMNS = ["setting", "CV accuracy", "sd", "train time (s)", "predict time (ms / 1000)", "parameters", "counted as"]


@dataclass
class Standardized:
    """``model`` behind a standardisation fitted on the data ``fit`` sees (mean 0, sd 1 per feature).

    Cross-validation must rescale inside each fold: statistics taken from
    all the data would let the held-out fold shape the preprocessing.
    """

    model: object
    mean_: np.ndarray | None = field(default=None, init=False, repr=False)
    std_: np.ndarray | None = field(default=None, init=False, repr=False)

    def fit(self, X, y) -> "Standardized":
        X = np.asarray(X, dtype=np.float32)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        self.model.fit(self.transform(X), y)
        return self

    def transform(self, X) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("this Standardized model is not fitted yet: call fit(X, y) first")
        return ((np.asarray(X, dtype=np.float32) - self.mean_) / self.std_).astype(np.float32)

    def predict(self, X) -> np.ndarray:
        return np.asarray(self.model.predict(self.transform(X)))

    def score(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))


def development_folds(data: DataSet, n_folds: int = 3, seed: int = 0):
    """``(X_dev, y_dev, folds)``: the train and val splits together, cut into stratified folds.

    ``folds`` is a list of ``(fit_rows, held_out_rows)`` index pairs; every
    row is held out exactly once. The test split is not touched.
    """
    from sklearn.model_selection import StratifiedKFold

    _check_data(data)
    check_positive_int(n_folds, "n_folds")
    if n_folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {n_folds}")
    X = np.concatenate([data.train.X, data.val.X]).astype(np.float32)
    y = np.concatenate([data.train.y, data.val.y])
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return X, y, [(fit_rows, held) for fit_rows, held in splitter.split(X, y)]


def _settings(grid: dict) -> list[dict]:
    """Every combination of a grid ``{name: [values]}``, the first name varying slowest."""
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict {{hyperparameter: [values]}}, got {type(grid).__name__}")
    settings = [{}]
    for name, values in grid.items():
        values = list(values)
        if not values:
            raise ValueError(f"the grid of {name!r} is empty")
        settings = [{**s, name: v} for s in settings for v in values]
    return settings


def describe_setting(setting: dict) -> str:
    """``{"C": 10, "gamma": 0.01}`` -> ``"C=10, gamma=0.01"`` (``"defaults"`` if empty)."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()) or "defaults"


@dataclass
class Tuned:
    """The result of tuning one model family by cross-validation.

    ``scores`` has one row per setting of the grid (labelled as
    ``describe_setting`` writes it) and one column per fold: held-out
    accuracy. ``best`` is the setting with the highest mean; ``model`` is
    that setting fitted on the first fold's training rows (for sizes,
    prediction times and further experiments on that fold's held-out rows).
    """

    grid: dict
    settings: list[dict]
    scores: pd.DataFrame
    best: dict
    model: object
    train_seconds: float

    @property
    def mean(self) -> float:
        return float(self.scores.loc[describe_setting(self.best)].mean())

    @property
    def sd(self) -> float:
        """Standard deviation of the chosen setting's accuracy over the folds (ddof=1)."""
        return float(self.scores.loc[describe_setting(self.best)].std(ddof=1))

    def on_edge(self) -> list[str]:
        """The hyperparameters whose chosen value is the first or last of a grid of 3 or more values."""
        return [name for name, values in self.grid.items()
                if len(values) >= 3 and list(values).index(self.best[name]) in (0, len(values) - 1)]


def tune_by_cv(make: Callable, grid: dict, data: DataSet, n_folds: int = 3, seed: int = 0,
               standardize: bool = True, select_on: str = "all folds") -> Tuned:
    """Tune one model family on its own ``grid`` with ``n_folds`` folds of the development data.

    ``make(**setting)`` returns a new, unfitted model. A setting is fitted
    on the training rows of a fold of the development data (train + val)
    and scored on that fold's held-out rows.

    - ``select_on="all folds"`` (k-fold cross-validation): every setting on
      every fold; the highest mean accuracy wins.
    - ``select_on="first fold"`` (a validation split, cheaper): every setting
      on the first fold only; the winner alone is then scored on the other
      folds too, for its mean and spread. Its first-fold score was the
      highest of several, so it leans a little high.

    On a tie the setting listed first wins. A ``TorchClassifier`` trains
    for its fixed number of epochs (no held-out rows to pick an epoch from).
    """
    if not callable(make):
        raise TypeError(f"make must be a function make(**setting) returning a new model, got {type(make).__name__}")
    if select_on not in ("all folds", "first fold"):
        raise ValueError(f"select_on must be 'all folds' or 'first fold', got {select_on!r}")
    settings = _settings(grid)
    X, y, folds = development_folds(data, n_folds, seed)
    scores = {describe_setting(s): [np.nan] * n_folds for s in settings}
    kept, seconds = {}, {}

    def run(setting, i):
        label = describe_setting(setting)
        model = make(**setting)
        _check_estimator(label, model)
        if standardize:
            model = Standardized(model)
        fit_rows, held = folds[i]
        start = time.perf_counter()
        model.fit(X[fit_rows], y[fit_rows])
        seconds.setdefault(label, []).append(time.perf_counter() - start)
        scores[label][i] = float(np.mean(np.asarray(model.predict(X[held])) == y[held]))
        if i == 0:
            kept[label] = model

    selection_folds = range(n_folds) if select_on == "all folds" else [0]
    for setting in settings:
        for i in selection_folds:
            run(setting, i)
    means = [np.mean([scores[describe_setting(s)][i] for i in selection_folds]) for s in settings]
    best = settings[int(np.argmax(means))]
    for i in range(n_folds):
        if i not in selection_folds:
            run(best, i)
    table = pd.DataFrame.from_dict(scores, orient="index", columns=[f"fold {i + 1}" for i in range(n_folds)])
    table.index.name = "setting"
    label = describe_setting(best)
    return Tuned(dict(grid), settings, table, best, kept[label], float(np.mean(seconds[label])))


def compare_cv(contenders: dict, data: DataSet, n_folds: int = 3, seed: int = 0,
               select_on: str = "all folds", verbose: bool = False) -> tuple[pd.DataFrame, dict]:
    """Tune every contender by cross-validation; one row each (see ``CV_COLUMNS``).

    ``contenders`` maps a name to ``(make, grid)``, as ``tune_by_cv`` takes
    them (with ``select_on`` as there). Returns the table and the ``Tuned`` result of every contender.
    The prediction time and size are those of the chosen setting fitted on
    the first fold (timed on that fold's held-out rows).
    """
    if not isinstance(contenders, dict) or not contenders:
        raise TypeError("contenders must be a non-empty dict {name: (make, grid)}")
    _check_data(data)
    X, _, folds = development_folds(data, n_folds, seed)
    held = X[folds[0][1]]
    rows, tuned = {}, {}
    for name, pair in contenders.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"contenders[{name!r}] must be a pair (make, grid)")
        if verbose:
            print(f"tuning {name} ...", flush=True)
        result = tune_by_cv(*pair, data, n_folds=n_folds, seed=seed, select_on=select_on)
        count, counted_as = model_size(result.model)
        rows[name] = [describe_setting(result.best), result.mean, result.sd, result.train_seconds,
                      prediction_ms_per_1000(result.model.predict, held), count, counted_as]
        tuned[name] = result
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=CV_COLUMNS)
    frame.index.name = "model"
    frame["parameters"] = frame["parameters"].astype(object)
    return frame, tuned


def test_once(make: Callable, setting: dict, data: DataSet, standardize: bool = True) -> tuple[float, object]:
    """Fit ``make(**setting)`` on all the development data (train + val); its accuracy on ``data.test``.

    Call it once, at the end, for the model(s) chosen on validation data.
    Returns ``(test accuracy, fitted model)``.
    """
    _check_data(data)
    model = make(**setting)
    _check_estimator("model", model)
    if standardize:
        model = Standardized(model)
    X = np.concatenate([data.train.X, data.val.X])
    y = np.concatenate([data.train.y, data.val.y])
    model.fit(X, y)
    return float(np.mean(np.asarray(model.predict(data.test.X)) == data.test.y)), model


test_once.__test__ = False  # not a pytest test, despite its name
