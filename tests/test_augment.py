"""Chapter 9's toolkit: batched per-image transforms, augments for fit, the per-sample path, TTA, loaders."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from helpers import augment as A
from helpers.train import fit


def _images(n=6, c=1, size=8, seed=0):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed))


# ---- input checks ----


@pytest.mark.parametrize("bad", [torch.rand(8, 8), torch.rand(3, 8, 8), torch.rand(0, 1, 8, 8)])
def test_wrong_image_shape_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="n_images, channels, height, width"):
        A.random_affine(bad, degrees=10)


def test_integer_images_and_non_tensors_are_refused():
    with pytest.raises(ValueError, match="float"):
        A.add_noise(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), std=0.1)
    with pytest.raises(TypeError, match="tensor"):
        A.random_erasing(np.zeros((2, 1, 8, 8)), p=0.5)


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_probability_outside_zero_one_is_refused(p):
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        A.random_erasing(_images(), p=p)
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        A.rotate_180(_images(), p=p)


def test_negative_strengths_are_refused():
    with pytest.raises(ValueError, match="degrees"):
        A.random_affine(_images(), degrees=-1)
    with pytest.raises(ValueError, match="scale"):
        A.random_affine(_images(), scale=1.2)
    with pytest.raises(ValueError, match="std"):
        A.add_noise(_images(), std=-0.1)
    with pytest.raises(ValueError, match="area"):
        A.random_erasing(_images(), area=(0.5, 0.2))


# ---- batched transforms ----


def test_random_affine_identity_and_one_draw_per_image():
    X = _images(8)
    assert torch.equal(A.random_affine(X), X)
    copies = X[:1].repeat(16, 1, 1, 1)
    out = A.random_affine(copies, degrees=30, translate=0.2)
    assert out.shape == copies.shape
    assert len(torch.unique(out.flatten(1), dim=0)) == 16


def test_random_affine_shift_moves_a_dot_by_the_expected_pixels():
    # translate=0.25 of an 8-pixel image is up to 2 pixels; check the extreme shifts land inside that range.
    dot = torch.zeros(200, 1, 8, 8)
    dot[:, 0, 4, 4] = 1.0
    out = A.random_affine(dot, translate=0.25, generator=torch.Generator().manual_seed(0))
    rows = torch.arange(8.0).view(1, 8, 1)
    cols = torch.arange(8.0).view(1, 1, 8)
    mass = out[:, 0].sum(dim=(1, 2))
    centre_row = (out[:, 0] * rows).sum(dim=(1, 2)) / mass
    centre_col = (out[:, 0] * cols).sum(dim=(1, 2)) / mass
    assert (centre_row - 4).abs().max() <= 2.01 and (centre_col - 4).abs().max() <= 2.01
    assert (centre_col - 4).abs().max() > 1.0  # it really moves


def test_rotate_180_and_flip_are_exact_with_p_one_and_identity_with_p_zero():
    X = _images()
    assert torch.equal(A.rotate_180(X, p=1.0), torch.rot90(X, 2, dims=(2, 3)))
    assert torch.equal(A.flip_horizontal(X, p=1.0), torch.flip(X, dims=(3,)))
    assert torch.equal(A.rotate_180(X, p=0.0), X) and torch.equal(A.flip_horizontal(X, p=0.0), X)


def test_random_erasing_boxes_per_image():
    X = torch.ones(300, 3, 8, 8)
    out = A.random_erasing(X, p=0.5, area=(0.1, 0.3), generator=torch.Generator().manual_seed(0))
    erased = (out == 0).any(dim=(1, 2, 3))
    assert 0.35 < erased.float().mean() < 0.65
    fractions = (out[erased, 0] == 0).float().mean(dim=(1, 2))
    assert fractions.min() >= 1 / 64 and fractions.max() <= 0.5
    assert torch.equal(out[:, 0], out[:, 1])  # the same box in every channel
    assert len(torch.unique((out[erased, 0] == 0).flatten(1).float(), dim=0)) > 10  # boxes differ between images


def test_add_noise_has_the_requested_spread():
    out = A.add_noise(torch.zeros(50, 1, 8, 8), std=0.3, generator=torch.Generator().manual_seed(0))
    assert abs(out.std().item() - 0.3) < 0.02


# ---- augments for fit ----


def test_on_images_compose_and_checked():
    X, y = _images(), torch.arange(6)
    aug = A.compose(A.on_images(A.flip_horizontal, p=1.0), None, A.on_images(A.flip_horizontal, p=1.0))
    X2, y2 = A.checked(aug)(X, y)
    assert torch.equal(X2, X) and torch.equal(y2, y)
    assert "flip_horizontal" in aug.__name__


def test_checked_refuses_an_augment_that_changes_the_batch():
    X, y = _images(), torch.arange(6)
    with pytest.raises(ValueError, match="batch size"):
        A.checked(lambda X, y: (X[:3], y))(X, y)
    with pytest.raises(ValueError, match="labels"):
        A.checked(lambda X, y: (X, y[:3]))(X, y)
    with pytest.raises(ValueError, match="sum to 1"):
        A.checked(lambda X, y: (X, torch.ones(6, 10)))(X, y)
    with pytest.raises(ValueError, match=r"\(n, 10\)"):
        A.checked(lambda X, y: (X, torch.full((6, 4), 0.25)), n_classes=10)(X, y)
    with pytest.raises(ValueError, match="pair"):
        A.checked(lambda X, y: X)(X, y)


def test_mixup_or_cutmix_gives_soft_labels_that_sum_to_one():
    X, y = _images(8), torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    torch.manual_seed(0)
    for kinds in (("mixup",), ("cutmix",), ("mixup", "cutmix")):
        X2, soft = A.checked(A.mixup_or_cutmix(10, alpha=1.0, kinds=kinds), n_classes=10)(X, y)
        assert soft.shape == (8, 10) and torch.allclose(soft.sum(1), torch.ones(8))
        assert (soft > 0).sum(1).max() <= 2  # each image mixes two labels at most
    with pytest.raises(ValueError, match="alpha"):
        A.mixup_or_cutmix(10, alpha=0)
    with pytest.raises(ValueError, match="kinds"):
        A.mixup_or_cutmix(10, kinds=("mosaic",))


def test_per_image_draws_per_image_and_keeps_uint8_round_trip():
    from torchvision.transforms import v2

    X, y = _images(1).repeat(10, 1, 1, 1), torch.zeros(10, dtype=torch.int64)
    torch.manual_seed(0)
    out, _ = A.per_image(v2.RandomAffine(degrees=30))(X, y)
    # v2 resamples 8x8 images to the nearest pixel, so two small angles can give the same image
    assert len(torch.unique(out.flatten(1), dim=0)) > 5
    same, _ = A.per_image(v2.Identity(), as_uint8=True)(X, y)
    assert (same - X).abs().max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ValueError, match="changed the images"):
        A.per_image(v2.Resize((4, 4)))(X, y)


def test_fit_accepts_the_augments_including_soft_labels():
    X, y = A.digits_images()
    train = (X[:60], y[:60])
    for aug in (A.on_images(A.random_affine, degrees=10), A.mixup_or_cutmix(10, 1.0)):
        torch.manual_seed(0)
        model = A.SmallCNN()
        history = fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=2, augment=aug, device="cpu",
                      progress=False)
        assert len(history) == 2 and np.isfinite(history.train_loss).all()


def test_train_few_labels_learns_digits():
    X, y = A.digits_images()
    idx = A.labels_per_class(y[:1000].numpy(), 10, seed=0)
    model, history = A.train_few_labels((X[idx], y[idx]), steps=100, device="cpu")
    assert A.accuracy(model, X[1000:1300], y[1000:1300]) > 0.7
    per_class = A.per_class_accuracy(model, X[1000:1300], y[1000:1300])
    assert per_class.shape == (10,) and np.all((0 <= per_class) & (per_class <= 1))


# ---- model ----


def test_small_cnn_shapes_and_errors():
    model = A.SmallCNN(n_classes=10, in_channels=3, image_size=28, width=4)
    assert model(torch.rand(2, 3, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="SmallCNN expects"):
        model(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="even"):
        A.SmallCNN(image_size=7)
    with pytest.raises(ValueError, match="width"):
        A.SmallCNN(width=0)


# ---- per-sample dataset, TTA, few labels ----


def test_per_sample_dataset_draws_per_image_through_a_dataloader():
    from torchvision.transforms import v2

    X = _images(1).repeat(8, 1, 1, 1)
    loader = torch.utils.data.DataLoader(A.PerSampleDataset(X, torch.arange(8), v2.RandomAffine(degrees=30)),
                                         batch_size=8)
    torch.manual_seed(0)
    batch, labels = next(iter(loader))
    assert batch.shape == X.shape and len(torch.unique(batch.flatten(1), dim=0)) > 4  # one draw per image
    with pytest.raises(ValueError, match="one label per image"):
        A.PerSampleDataset(X, torch.arange(3))
    bad = A.PerSampleDataset(X, torch.arange(8), v2.Resize((4, 4)))
    with pytest.raises(ValueError, match="changed an image"):
        bad[0]


def test_tta_probabilities():
    torch.manual_seed(0)
    model = A.SmallCNN(width=4)
    X = _images(5)
    plain = A.tta_probabilities(model, X, None)
    assert torch.allclose(plain, torch.softmax(model(X), 1), atol=1e-6)
    assert torch.allclose(A.tta_probabilities(model, X, lambda x: x, n_views=4), plain, atol=1e-6)
    flipped = A.tta_probabilities(model, X, lambda x: torch.flip(x, dims=(3,)), n_views=2)
    expected = (plain + torch.softmax(model(torch.flip(X, dims=(3,))), 1)) / 2
    assert torch.allclose(flipped, expected, atol=1e-6) and torch.allclose(flipped.sum(1), torch.ones(5))
    with pytest.raises(ValueError, match="n_views"):
        A.tta_probabilities(model, X, None, n_views=0)
    with pytest.raises(ValueError, match="TTA transform"):
        A.tta_probabilities(model, X, lambda x: x[:2], n_views=2)


def test_labels_per_class():
    y = np.repeat(np.arange(3), 10)
    idx = A.labels_per_class(y, 4, seed=1)
    assert len(idx) == 12 and np.all(np.bincount(y[idx]) == 4) and len(set(idx)) == 12
    assert not np.array_equal(idx, A.labels_per_class(y, 4, seed=2))
    with pytest.raises(ValueError, match="fewer than k"):
        A.labels_per_class(y, 11)
    with pytest.raises(ValueError, match="positive integer"):
        A.labels_per_class(y, 0)


# ---- torchvision loader, on small files this test writes ----


def _write_idx(path, array: np.ndarray):
    """An idx file as Fashion-MNIST's raw folder holds them after torchvision unpacks the download."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_load_fashion_mnist_from_raw_idx_files(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)
    for prefix, n in (("train", 12), ("t10k", 12)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images[:n])
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels[:n])
    X, y = A.load_torchvision_images("FashionMNIST", root=str(tmp_path), limit=10)
    assert X.shape == (10, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.allclose(X[3, 0], torch.tensor(images[3] / 255.0, dtype=torch.float32))
    assert torch.equal(y, torch.tensor(labels[:10]))
    with pytest.raises(ValueError, match="one of"):
        A.load_torchvision_images("ImageNet", root=str(tmp_path))


def test_load_cifar10_from_pickled_batches(tmp_path, monkeypatch):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8)
        batches[name] = data
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": list(rng.integers(0, 10, 4))}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    from torchvision.datasets import CIFAR10, cifar

    # Our tiny files have other checksums than the real download.
    monkeypatch.setattr(CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    X, y = A.load_torchvision_images("CIFAR10", root=str(tmp_path))
    assert X.shape == (20, 3, 32, 32) and y.shape == (20,)
    first = torch.tensor(batches["data_batch_1"][0].reshape(3, 32, 32) / 255.0, dtype=torch.float32)
    assert torch.allclose(X[0], first)
