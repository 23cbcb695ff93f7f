"""Small PyTorch models the chapters train and compare.

Every model takes a batch of inputs and returns one score (logit) per class:
``(batch, n_classes)``. A regression model is the same with ``n_classes=1``.

- ``mlp``: a multi-layer perceptron on flat feature vectors ``(batch, n_features)``;
- ``CNN1D``: a small convolutional network for 1-D signals ``(batch, length)``
  such as MNIST-1D, where neighbouring inputs are related;
- ``GRUClassifier``: a recurrent network reading a signal one step at a time;
- ``count_parameters``: how many numbers training adjusts.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.checks import check_number, check_positive_int


def mlp(n_inputs: int, hidden: tuple[int, ...] | list[int], n_outputs: int, dropout: float = 0.0) -> nn.Sequential:
    """A multi-layer perceptron: Linear -> ReLU (-> Dropout) per hidden layer, then Linear.

    ``mlp(64, [32], 10)`` maps ``(batch, 64)`` to ``(batch, 10)``; ``hidden=[]`` gives a
    linear model (logistic regression when trained with cross-entropy).
    """
    check_positive_int(n_inputs, "n_inputs")
    check_positive_int(n_outputs, "n_outputs")
    for width in hidden:
        check_positive_int(width, "each hidden width")
    check_number(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    layers: list[nn.Module] = []
    width_in = n_inputs
    for width in hidden:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width_in = width
    layers.append(nn.Linear(width_in, n_outputs))
    return nn.Sequential(*layers)


class CNN1D(nn.Module):
    """Convolutions over a 1-D signal ``(batch, length)`` -> logits ``(batch, n_classes)``.

    Three convolution layers share their weights along the signal, so the same
    pattern is recognised wherever it appears; global average pooling then
    forgets where, and a linear layer scores the classes.
    """

    def __init__(self, n_classes: int = 10, channels: int = 32, kernel_size: int = 5):
        super().__init__()
        check_positive_int(n_classes, "n_classes")
        check_positive_int(channels, "channels")
        padding = kernel_size // 2
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size, padding=padding),
            nn.ReLU(),
            nn.Conv1d(channels, channels, kernel_size, padding=padding, stride=2),
            nn.ReLU(),
            nn.Conv1d(channels, channels, kernel_size, padding=padding, stride=2),
            nn.ReLU(),
        )
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(f"CNN1D expects signals of shape (batch, length), got {tuple(x.shape)}")
        h = self.features(x.unsqueeze(1))  # (batch, channels, length / 4)
        return self.head(h.mean(dim=2))


class GRUClassifier(nn.Module):
    """A GRU reads a signal ``(batch, length)`` step by step; its last state is classified."""

    def __init__(self, n_classes: int = 10, hidden: int = 64):
        super().__init__()
        check_positive_int(n_classes, "n_classes")
        check_positive_int(hidden, "hidden")
        self.gru = nn.GRU(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(f"GRUClassifier expects signals of shape (batch, length), got {tuple(x.shape)}")
        _, last_state = self.gru(x.unsqueeze(2))  # last_state: (1, batch, hidden)
        return self.head(last_state[0])


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the numbers gradient descent adjusts)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
