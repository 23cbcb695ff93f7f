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
    make_models: dict[str, Callable], data: DataSet, train_sizes, seed: int = 0, use_val: bool = True
) -> pd.DataFrame:
    """Test accuracy and training time of fresh models fitted on growing slices of ``data.train``.

    ``make_models`` maps a name to a function ``make(n)`` that returns a new,
    unfitted model for a training set of ``n`` samples (so a neural network
    can, say, run more epochs on a smaller slice and take the same number of
    steps). Each slice is a stratified random subset of ``data.train``, the
    same for every model. A ``TorchClassifier`` watches ``data.val`` to keep
    its best epoch when ``use_val`` is true (which costs an evaluation per
    epoch: many epochs on a small slice make that the larger cost).
    Returns one row per (training samples, model) with the columns
    ``test accuracy`` and ``train time (s)``.
    """
    _check_data(data)
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
            accuracy = float(np.mean(np.asarray(model.predict(data.test.X)) == data.test.y))
            rows.append({"training samples": size, "model": name, "test accuracy": accuracy, "train time (s)": seconds})
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
