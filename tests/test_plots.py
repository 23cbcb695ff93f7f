"""helpers.plots draw what they promise and refuse bad input clearly."""

import numpy as np
import pytest

from helpers.plots import plot_confusion_matrix, plot_decision_boundary, plot_history, use_style
from helpers.train import History


def _history():
    return History(metric_name="accuracy", epoch=[1, 2], train_loss=[1.0, 0.5], val_loss=[1.1, 0.7],
                   train_metric=[0.5, 0.8], val_metric=[0.4, 0.7], best_epoch=2)


def test_plot_history_draws_loss_and_metric_panels():
    use_style()
    fig = plot_history(_history(), title="t")
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "accuracy"


def test_plot_history_refuses_an_empty_history():
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())


def test_decision_boundary_colours_the_plane_by_prediction():
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    fig = plot_decision_boundary(lambda P: (P[:, 0] > 0).astype(int), X, y, resolution=20)
    assert fig.axes


@pytest.mark.parametrize(
    "args, words",
    [
        ((np.zeros((5, 3)), np.zeros(5)), "shape \\(n, 2\\)"),
        ((np.zeros((5, 2)), np.zeros(4)), "equally long"),
    ],
)
def test_decision_boundary_bad_input(args, words):
    with pytest.raises(ValueError, match=words):
        plot_decision_boundary(lambda P: np.zeros(len(P)), *args)


def test_confusion_matrix_counts_pairs():
    fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("1") == 4 and texts.count("0") == 5
    with pytest.raises(ValueError, match="equally long"):
        plot_confusion_matrix([0, 1], [0])
