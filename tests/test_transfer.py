"""helpers.transfer: data for the transfer experiments, backbone + head, probes, fine-tuning, CKA, ResNet-18."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mnist1d.data import get_templates

from helpers import transfer
from helpers.checkpoint import save_weights
from helpers.transfer import (
    FewLabelSetup, MLPNet, Run, TransferNet, accuracy, features, fine_tune, labels_per_class, linear_cka,
    linear_probe, make_signals, new_templates, param_groups, resnet18_for, run_method, split_digits, target_task,
    tune,
)

# ---- data ----


def test_new_templates_are_normalised_like_mnist1d_and_differ_from_its_digits():
    new, old = new_templates(0), get_templates()
    assert new["x"].shape == old["x"].shape == (10, 12) and np.array_equal(new["t"], old["t"])
    assert np.allclose(new["x"][:, 0], 0) and np.allclose((new["x"] * 6).std(axis=1), 1)
    assert np.array_equal(new_templates(0)["x"], new["x"]) and not np.allclose(new_templates(1)["x"], new["x"])
    distances = np.abs(new["x"][:, None, :] - old["x"][None, :, :]).sum(axis=2)
    assert distances.min() > 0.1, "no new template copies a digit"
    with pytest.raises(ValueError, match="n_classes"):
        new_templates(n_classes=1)


def test_make_signals_is_balanced_reproducible_and_checks_its_input():
    X, y = make_signals(100, new_templates(), seed=3)
    assert X.shape == (100, 40) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [10] * 10
    assert np.array_equal(make_signals(100, new_templates(), seed=3)[0], X)
    with pytest.raises(ValueError, match="n_samples"):
        make_signals(5)
    with pytest.raises(TypeError, match="templates"):
        make_signals(100, templates=[1, 2, 3])


def test_labels_per_class_draws_k_distinct_examples_of_each_class():
    y = np.repeat(np.arange(4), 10)
    idx = labels_per_class(y, 3, seed=1)
    assert len(idx) == len(set(idx)) == 12 and np.bincount(y[idx]).tolist() == [3, 3, 3, 3]
    assert np.array_equal(idx, labels_per_class(y, 3, seed=1))
    assert not np.array_equal(idx, labels_per_class(y, 3, seed=2))
    with pytest.raises(ValueError, match="fewer than k"):
        labels_per_class(y, 11)
    with pytest.raises(ValueError, match="positive integer"):
        labels_per_class(y, 0)
    with pytest.raises(ValueError, match="integer labels"):
        labels_per_class(y.astype(float), 2)


def test_target_task_and_split_digits_have_the_promised_splits():
    target = target_task(per_class=(5, 3, 4), seed=0)
    for split, n in ((target.train, 5), (target.val, 3), (target.test, 4)):
        assert np.bincount(split.y).tolist() == [n] * 10
    with pytest.raises(ValueError, match="per_class"):
        target_task(per_class=(5, 3))
    source, digits_target = split_digits(seed=0, per_class=(4, 6))
    assert set(np.unique(source.train.y)) == set(range(5)) and set(np.unique(digits_target.test.y)) == set(range(5))
    assert np.bincount(digits_target.train.y).tolist() == [4] * 5 and np.bincount(digits_target.val.y).tolist() == [6] * 5
    assert source.train.X.max() <= 1.0 and len(digits_target.test) > 500


# ---- the networks ----


def test_transfer_net_splits_into_backbone_and_head():
    model = TransferNet(7, channels=8)
    X = torch.randn(5, 40)
    assert model(X).shape == (5, 7) and model.backbone(X).shape == (5, 32)
    assert features(model.backbone, X.numpy()).shape == (5, 32)
    with pytest.raises(ValueError, match="signals of shape"):
        model(torch.randn(5, 39))
    with pytest.raises(ValueError, match="channels"):
        TransferNet(10, channels=0)
    assert MLPNet(64, 16, 5)(torch.randn(3, 64)).shape == (3, 5)


def test_param_groups_give_each_part_its_rate_and_a_zero_rate_freezes():
    model = TransferNet(10, 8)
    groups = param_groups(model, head_lr=0.1, backbone_lr=0.01)
    assert [g["lr"] for g in groups] == [0.1, 0.01]
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    frozen = param_groups(model, head_lr=0.1, backbone_lr=0)
    assert len(frozen) == 1 and not any(p.requires_grad for p in model.backbone.parameters())
    with pytest.raises(ValueError, match="head_lr"):
        param_groups(model, head_lr=0, backbone_lr=0.1)
    with pytest.raises(ValueError, match="backbone_lr"):
        param_groups(model, head_lr=0.1, backbone_lr=-1)
    with pytest.raises(TypeError, match="backbone"):
        param_groups(torch.nn.Linear(3, 2), 0.1, 0.1)


def test_fine_tune_with_a_frozen_backbone_changes_only_the_head():
    torch.manual_seed(0)
    model = TransferNet(3, 8)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    X, y = torch.randn(30, 40), torch.randint(0, 3, (30,))
    fine_tune(model, (X, y), None, head_lr=0.05, backbone_lr=0, epochs=3, device="cpu")
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) == name.startswith("backbone"), name
        assert p.requires_grad, "fine_tune leaves every parameter trainable again"


def test_linear_probe_fits_separable_features():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    F = rng.normal(size=(60, 5)) + 3 * np.eye(5)[y]
    assert linear_probe(F, y, C=1.0).score(F, y) == 1.0
    with pytest.raises(ValueError, match="C must be"):
        linear_probe(F, y, C=0)


# ---- the experiment ----


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    target = target_task(per_class=(4, 3, 5), seed=1)
    path = tmp_path_factory.mktemp("ch10") / "backbone.pt"
    torch.manual_seed(0)
    save_weights(TransferNet(10, 8).backbone, path)
    return FewLabelSetup(target, str(path), make_model=lambda: TransferNet(10, 8), steps=4, batch_size=8)


@pytest.mark.parametrize("method", transfer.METHODS)
def test_run_method_scores_every_method_on_validation(tiny_setup, method):
    run = run_method(tiny_setup, method, 2, seed=0, value=1e-2)
    assert 0 <= run.val_accuracy <= 1 and run.method == method
    assert run.predict("test").shape == (50,)
    assert (run.model is None) == (method in ("linear probe", "logistic regression on the inputs"))


def test_pretrained_model_loads_the_saved_backbone_under_a_new_head(tiny_setup):
    torch.manual_seed(5)
    a = tiny_setup.pretrained_model()
    torch.manual_seed(6)
    b = tiny_setup.pretrained_model()
    assert all(torch.equal(p, q) for p, q in zip(a.backbone.parameters(), b.backbone.parameters()))
    assert not torch.equal(a.head.weight, b.head.weight)
    with pytest.raises(ValueError, match="unknown method"):
        run_method(tiny_setup, "distillation", 2, 0, 1e-2)


def test_tune_widens_a_grid_whose_best_value_is_at_an_end(tiny_setup, monkeypatch):
    def fake_run(setup, method, k, seed, value):  # validation accuracy peaks at value 1.0
        return Run(method, k, seed, value, -abs(np.log10(value)), lambda which: None)

    monkeypatch.setattr(transfer, "run_method", fake_run)
    best, runs = tune(tiny_setup, "scratch", 2, [0, 1], [1e-3, 1e-2, 1e-1])
    tried = sorted({r.value for r in runs})
    assert best == pytest.approx(1.0) and tried[-1] > best, "the grid grew past the best value"
    assert len(runs) == 2 * len(tried)
    best, runs = tune(tiny_setup, "scratch", 2, [0], [1e3, 1e4, 1e5], max_widen=1)
    assert len({r.value for r in runs}) == 4, "at most max_widen extra values"
    with pytest.raises(ValueError, match="at least 3"):
        tune(tiny_setup, "scratch", 2, [0], [1e-3, 1e-2])


def test_accuracy_is_a_plain_float():
    value = accuracy(np.array([1, 2, 3]), np.array([1, 2, 0]))
    assert type(value) is float and value == pytest.approx(2 / 3)


# ---- CKA ----


def test_linear_cka_is_invariant_to_rotation_and_scale_and_near_zero_for_unrelated():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(X, 2.5 * X @ Q + 4.0) == pytest.approx(1.0)
    assert linear_cka(X, rng.normal(size=(500, 3))) < 0.05
    Y = X[:, :3] + 0.5 * rng.normal(size=(500, 3))
    assert linear_cka(X, Y) == pytest.approx(linear_cka(Y, X)) and 0.1 < linear_cka(X, Y) < 1
    assert linear_cka(torch.as_tensor(X), torch.as_tensor(Y)) == pytest.approx(linear_cka(X, Y))
    with pytest.raises(ValueError, match="same n"):
        linear_cka(X, X[:10])
    assert linear_cka(X, np.ones((500, 2))) == 0.0, "a constant representation scores 0"


# ---- ResNet-18: the practitioner's code, offline ----


def test_resnet18_for_replaces_the_last_layer_and_freezes_the_rest():
    torch.manual_seed(0)
    model, transform = resnet18_for(3, weights=None)
    images = torch.randint(0, 256, (2, 3, 60, 80), dtype=torch.uint8)  # small generated images
    batch = transform(images)
    assert batch.shape == (2, 3, 224, 224) and batch.dtype == torch.float32
    model.eval()
    with torch.no_grad():
        assert model(batch).shape == (2, 3)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    unfrozen, _ = resnet18_for(3, weights=None, freeze_backbone=False)
    assert all(p.requires_grad for p in unfrozen.parameters())


def test_resnet18_for_refuses_unknown_weights_and_class_counts():
    with pytest.raises(ValueError, match="weights must be"):
        resnet18_for(3, weights="IMAGENET1K_V2")
    with pytest.raises(ValueError, match="n_classes"):
        resnet18_for(1)
