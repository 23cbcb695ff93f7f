"""Plots every chapter uses, in one consistent style.

- ``plot_history``: learning curves (loss, and the metric if any) per epoch;
- ``plot_decision_boundary``: what a classifier predicts over a 2-D plane;
- ``plot_confusion_matrix``: which classes get mistaken for which.

Each function draws on the axes you pass (or makes its own figure) and
returns the figure. In the book, a figure's alt text comes from its cell's
metadata (``mystnb={"image": {"alt": "..."}}``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from helpers.checks import to_numpy

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 80,  # small committed notebooks; the site stays sharp enough
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "legend.frameon": False,
}
TRAIN_COLOUR, VAL_COLOUR = "#1f77b4", "#ff7f0e"


def use_style() -> None:
    """Apply the course's matplotlib style (call once per notebook)."""
    plt.rcParams.update(STYLE)


def _new_axes(n: int, axes):
    if axes is not None:
        axes = np.atleast_1d(axes)
        if len(axes) < n:
            raise ValueError(f"expected {n} axes, got {len(axes)}")
        return axes[0].figure, axes
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), squeeze=False)
    return fig, axes[0]


def plot_history(history, axes=None, title: str | None = None):
    """Training and validation loss (and metric) per epoch, from a ``History``."""
    if not len(history):
        raise ValueError("the history is empty: train for at least one epoch first")
    panels = [("loss", history.train_loss, history.val_loss)]
    if history.metric_name:
        panels.append((history.metric_name, history.train_metric, history.val_metric))
    fig, axes = _new_axes(len(panels), axes)
    for ax, (label, train_values, val_values) in zip(axes, panels):
        ax.plot(history.epoch, train_values, color=TRAIN_COLOUR, label="train")
        if val_values:
            ax.plot(history.epoch, val_values, color=VAL_COLOUR, label="validation")
        if history.best_epoch is not None and val_values:
            ax.axvline(history.best_epoch, color="grey", linestyle=":", label="best epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_decision_boundary(predict, X, y, ax=None, title: str | None = None, resolution: int = 200):
    """Colour the plane by the class ``predict`` gives each point; overlay the data.

    ``predict`` maps an array (m, 2) to class labels (m,): e.g. a fitted
    scikit-learn model's ``.predict`` or ``lambda P: model(P).argmax(1)``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D points X of shape (n, 2), got {X.shape}")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must be non-empty and equally long, got {len(X)} and {len(y)}")
    if not callable(predict):
        raise TypeError("predict must be a function from points (m, 2) to labels (m,)")
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.c_[grid_x.ravel(), grid_y.ravel()].astype(np.float32)
    labels = np.asarray(to_numpy(predict(grid))).reshape(-1)
    if labels.shape[0] != grid.shape[0]:
        raise ValueError(f"predict returned {labels.shape[0]} labels for {grid.shape[0]} points")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.contourf(grid_x, grid_y, labels.reshape(grid_x.shape), alpha=0.25, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=10, cmap="coolwarm", edgecolors="k", linewidths=0.2)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_confusion_matrix(y_true, y_pred, class_names=None, ax=None, title: str | None = None, normalize: bool = False):
    """A confusion matrix: row = true class, column = predicted class."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(to_numpy(y_true)).reshape(-1), np.asarray(to_numpy(y_pred)).reshape(-1)
    if len(y_true) != len(y_pred) or len(y_true) == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and equally long, got {len(y_true)} and {len(y_pred)}")
    labels = np.arange(len(class_names)) if class_names is not None else None
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    if normalize:
        matrix = matrix / matrix.sum(axis=1, keepdims=True).clip(min=1)
    names = class_names if class_names is not None else [str(c) for c in np.unique(np.r_[y_true, y_pred])]
    if ax is None:
        size = 1.0 + 0.35 * len(names)
        fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 5 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    threshold = matrix.max() / 2
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            text = f"{matrix[i, j]:.2f}" if normalize else str(matrix[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if matrix[i, j] > threshold else "black")
    if title:
        ax.set_title(title)
    return ax.figure
