"""Offline data sets, split reproducibly into train / validation / test.

Nothing here touches the network. Every set ships with a package
(scikit-learn, palmerpenguins) or is generated locally (MNIST-1D, moons,
circles).

    >>> ds = load("digits", seed=0)
    >>> print(ds.summary())
    digits: classification, 64 features, 10 classes | train 1077, val 360, test 360

Why three splits?

- **train**: the model's parameters are fitted on it;
- **validation**: we compare models and settings on it (and stop early);
- **test**: touched once, at the end, to report how the chosen model does on
  data it has never influenced.

Splits of classification sets are stratified (each split keeps the class
proportions). Features are returned raw; ``DataSet.standardized()`` rescales
them with statistics of the *training* split only, so nothing leaks from the
validation and test sets into training.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd
import torch
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

# --------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """One part of a data set: features ``X`` (n, ...) and targets ``y`` (n,)."""

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        check_features_and_targets(self.X, self.y)

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class DataSet:
    """A named data set with its three splits.

    ``task`` is ``"classification"`` (integer labels 0..n_classes-1) or
    ``"regression"`` (float targets).
    """

    name: str
    task: str
    train: Split
    val: Split
    test: Split
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def n_features(self) -> int:
        return int(np.prod(self.train.X.shape[1:]))

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == "classification" else 0

    def split(self, which: str) -> Split:
        """The split called ``which``: ``"train"``, ``"val"`` or ``"test"``."""
        if which not in ("train", "val", "test"):
            raise ValueError(f"unknown split {which!r}: expected 'train', 'val' or 'test'")
        return getattr(self, which)

    def summary(self) -> str:
        """One line: task, features, classes and split sizes."""
        classes = f", {self.n_classes} classes" if self.task == "classification" else ""
        return (
            f"{self.name}: {self.task}, {self.n_features} features{classes} | "
            f"train {len(self.train)}, val {len(self.val)}, test {len(self.test)}"
        )

    def table_row(self) -> dict:
        """The data set as one row of the course's "Data Set" table."""
        return {
            "data set": self.name,
            "task": self.task,
            "features": self.n_features,
            "classes": self.n_classes if self.task == "classification" else "-",
            "train": len(self.train),
            "validation": len(self.val),
            "test": len(self.test),
            "description": self.description,
        }

    def standardized(self) -> "DataSet":
        """A copy with every feature rescaled to mean 0, std 1 *on the training split*.

        The validation and test splits use the training mean and std: they
        are treated as data the model has not seen, so they must not shape
        the preprocessing either.
        """
        mean = self.train.X.mean(axis=0)
        std = self.train.X.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # constant features stay constant

        def scale(s: Split) -> Split:
            return Split(((s.X - mean) / std).astype(np.float32), s.y)

        return replace(self, train=scale(self.train), val=scale(self.val), test=scale(self.test))

    def tensors(self, which: str, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """The split ``which`` as ``(X, y)`` tensors on ``device``."""
        s = self.split(which)
        return to_tensors(s.X, s.y, device=device, task=self.task)


# --------------------------------------------------------------------------
# Input checks shared by every helper
# --------------------------------------------------------------------------


def check_features_and_targets(X, y, *, allow_nan: bool = False) -> None:
    """Raise a clear error unless ``X`` (n, ...) and ``y`` (n,) fit together."""
    if X is None or y is None:
        raise TypeError("expected features X and targets y, got None")
    X_shape, y_shape = tuple(np.shape(X)), tuple(np.shape(y))
    if len(X_shape) < 2:
        raise ValueError(f"X must have shape (n_samples, n_features, ...), got shape {X_shape}")
    if len(y_shape) != 1:
        raise ValueError(f"y must have shape (n_samples,), got shape {y_shape}")
    if X_shape[0] != y_shape[0]:
        raise ValueError(f"X and y have different lengths: {X_shape[0]} samples vs {y_shape[0]} targets")
    if X_shape[0] == 0:
        raise ValueError("the data is empty: X and y have 0 samples")
    if not allow_nan:
        X_values = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
        if X_values.dtype.kind == "f" and not np.isfinite(X_values).all():
            bad = int((~np.isfinite(X_values)).sum())
            raise ValueError(
                f"X contains {bad} NaN or infinite values; impute or drop them first "
                "(see the data preparation chapter)"
            )


def to_tensors(X, y, device: torch.device | str = "cpu", task: str = "classification"):
    """Convert arrays (or a DataFrame / Series) to ``(X float32, y)`` tensors on ``device``.

    Classification targets become ``int64`` (what cross-entropy expects),
    regression targets ``float32``.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy(copy=True)
    if isinstance(y, (pd.DataFrame, pd.Series)):
        y = y.to_numpy(copy=True)
    X = np.asarray(X) if not isinstance(X, torch.Tensor) else X
    y = np.asarray(y) if not isinstance(y, torch.Tensor) else y
    if not isinstance(X, torch.Tensor) and X.dtype == object:
        raise TypeError("X has non-numeric (object) columns; encode categorical columns first")
    check_features_and_targets(X, y)
    X_t = torch.as_tensor(X, dtype=torch.float32)
    y_dtype = torch.int64 if task == "classification" else torch.float32
    y_t = torch.as_tensor(y, dtype=y_dtype)
    return X_t.to(device), y_t.to(device)


# --------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------


def split_three_ways(X, y, *, seed: int = 0, val_size: float = 0.2, test_size: float = 0.2, stratify: bool = True):
    """Split arrays into train / validation / test parts (fractions of the whole).

    Returns ``(train, val, test)`` as :class:`Split` objects.
    """
    for name, frac in (("val_size", val_size), ("test_size", test_size)):
        if not 0 < frac < 1:
            raise ValueError(f"{name} must be a fraction between 0 and 1, got {frac}")
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must leave data to train on, got {val_size} + {test_size}")
    check_features_and_targets(X, y)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=val_size / (1 - test_size),
        random_state=seed,
        stratify=y_rest if stratify else None,
    )
    return Split(X_train, y_train), Split(X_val, y_val), Split(X_test, y_test)


# --------------------------------------------------------------------------
# Loaders: each returns (X, y, feature_names, class_names, description)
# --------------------------------------------------------------------------


def _from_sklearn(loader: Callable, description: str):
    bunch = loader()
    class_names = [str(c) for c in getattr(bunch, "target_names", [])]
    X = bunch.data.astype(np.float32)
    return X, bunch.target, list(map(str, bunch.feature_names)), class_names, description


def _digits(seed, n_samples):
    return _from_sklearn(skdatasets.load_digits, "8x8 grey images of handwritten digits (UCI), as 64 pixels")


def _iris(seed, n_samples):
    return _from_sklearn(skdatasets.load_iris, "Fisher's iris flowers: 4 measurements, 3 species")


def _wine(seed, n_samples):
    return _from_sklearn(skdatasets.load_wine, "chemical analysis of 3 Italian wine cultivars")


def _breast_cancer(seed, n_samples):
    return _from_sklearn(skdatasets.load_breast_cancer, "Wisconsin breast cancer cell nuclei, malignant vs benign")


def _diabetes(seed, n_samples):
    X, y, names, _, _ = _from_sklearn(skdatasets.load_diabetes, "")
    return X, y.astype(np.float32), names, [], "disease progression one year on, from 10 baseline variables"


def _moons(seed, n_samples):
    X, y = skdatasets.make_moons(n_samples=n_samples or 1000, noise=0.25, random_state=seed)
    return X.astype(np.float32), y, ["x1", "x2"], ["upper", "lower"], "two interleaving half-circles (generated)"


def _circles(seed, n_samples):
    X, y = skdatasets.make_circles(n_samples=n_samples or 1000, noise=0.1, factor=0.5, random_state=seed)
    return X.astype(np.float32), y, ["x1", "x2"], ["outer", "inner"], "a circle inside a ring (generated)"


PENGUIN_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def load_penguins_frame(raw: bool = False) -> pd.DataFrame:
    """The Palmer penguins as a DataFrame, missing values and text columns included.

    ``raw=True`` gives the original 17-column field records; the default is
    the tidy 8-column version (species, island, four measurements, sex, year).
    """
    import palmerpenguins

    return palmerpenguins.load_penguins_raw() if raw else palmerpenguins.load_penguins()


def _penguins(seed, n_samples):
    frame = load_penguins_frame()
    # The two birds with no measurements at all cannot be used; a missing sex
    # becomes its own category, so no other row is thrown away.
    frame = frame.dropna(subset=PENGUIN_MEASUREMENTS)
    sex = frame["sex"].fillna("unknown")
    encoded = pd.concat(
        [
            frame[PENGUIN_MEASUREMENTS],
            pd.get_dummies(frame["island"], prefix="island"),
            pd.get_dummies(sex, prefix="sex"),
        ],
        axis=1,
    )
    species = sorted(frame["species"].unique())
    y = frame["species"].map({s: i for i, s in enumerate(species)}).to_numpy()
    description = "Palmer Archipelago penguins: measurements, island, sex (one-hot) -> species"
    return encoded.to_numpy(dtype=np.float32), y, list(encoded.columns), species, description


def _mnist1d(seed, n_samples):
    # make_dataset builds the set locally; mnist1d's get_dataset would try the network first.
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = 42 + seed  # seed 0 gives the published data set (its default seed is 42)
    data = make_dataset(args)
    X = np.concatenate([data["x"], data["x_test"]]).astype(np.float32)
    y = np.concatenate([data["y"], data["y_test"]])
    names = [f"t{i}" for i in range(X.shape[1])]
    description = "MNIST-1D (Greydanus 2020): 1-D signals of 40 points, 10 classes (generated)"
    return X, y, names, [str(i) for i in range(10)], description


LOADERS: dict[str, Callable] = {
    "digits": _digits,
    "iris": _iris,
    "wine": _wine,
    "breast_cancer": _breast_cancer,
    "diabetes": _diabetes,
    "penguins": _penguins,
    "mnist1d": _mnist1d,
    "moons": _moons,
    "circles": _circles,
}
REGRESSION_SETS = {"diabetes"}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(LOADERS)


def load(
    name: str,
    *,
    seed: int = 0,
    val_size: float = 0.2,
    test_size: float = 0.2,
    n_samples: int | None = None,
) -> DataSet:
    """Load the offline data set ``name`` and split it reproducibly.

    ``seed`` fixes the split (and the generated sets). ``val_size`` and
    ``test_size`` are fractions of the whole set. ``n_samples`` sets the
    size of the generated sets (moons, circles; default 1000).

    MNIST-1D keeps its published split: the test split is the official 1000
    test signals, and ``val_size`` is taken from the 4000 training signals.
    """
    if not isinstance(name, str) or name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(available())}")
    if n_samples is not None and (not isinstance(n_samples, int) or n_samples < 10):
        raise ValueError(f"n_samples must be an integer of at least 10, got {n_samples!r}")
    X, y, feature_names, class_names, description = LOADERS[name](seed, n_samples)
    task = "regression" if name in REGRESSION_SETS else "classification"
    stratify = task == "classification"
    if name == "mnist1d":
        n_test = 1000
        X_rest, y_rest = X[:-n_test], y[:-n_test]
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest, y_rest, test_size=val_size, random_state=seed, stratify=y_rest
        )
        train, val, test = Split(X_train, y_train), Split(X_val, y_val), Split(X[-n_test:], y[-n_test:])
    else:
        train, val, test = split_three_ways(
            X, y, seed=seed, val_size=val_size, test_size=test_size, stratify=stratify
        )
    return DataSet(name, task, train, val, test, feature_names, class_names, description)


def dataset_table(names: list[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """The "Data Set" table: one row per data set, generated from the loaders."""
    rows = [load(n, seed=seed).table_row() for n in (names or available())]
    return pd.DataFrame(rows).set_index("data set")
