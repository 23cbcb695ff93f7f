"""helpers.models: shapes in, shapes out, clear errors."""

import pytest
import torch

from helpers.models import CNN1D, GRUClassifier, count_parameters, mlp


def test_mlp_maps_features_to_one_score_per_class():
    model = mlp(64, [32, 16], 10, dropout=0.1)
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    assert count_parameters(model) == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


def test_mlp_without_hidden_layers_is_linear():
    assert count_parameters(mlp(4, [], 3)) == 4 * 3 + 3


@pytest.mark.parametrize("model", [CNN1D(10), GRUClassifier(10, hidden=8)])
def test_sequence_models_classify_signals(model):
    assert model(torch.zeros(3, 40)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"\(batch, length\)"):
        model(torch.zeros(3, 1, 40))


@pytest.mark.parametrize("call", [lambda: mlp(0, [4], 2), lambda: mlp(4, [-1], 2), lambda: mlp(4, [4], 2, dropout=1.0), lambda: CNN1D(0)])
def test_bad_sizes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
