# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 9: Data augmentation
#
# A model only learns what its training data show it. If every training
# image of a 7 is upright and centred, nothing tells the model that a 7
# shifted by a pixel or tilted by ten degrees is still a 7. **Data
# augmentation** adds that knowledge without new labels: each time an image
# is used for training, it is first transformed in a way we believe does not
# change its class (shifted, rotated, blurred with noise, partly erased,
# mixed with another image). Each transformation encodes an *invariance*, a
# claim about the task; when the claim is true the model sees variations it
# will meet, and when it is false (a digit turned upside down) augmentation
# teaches the model something wrong. This chapter shows what the standard
# transforms do, where in the training loop they run and what that costs,
# and then measures, with few labels per class, how much accuracy each kind
# of augmentation buys, and how little it sometimes does.
#
# **After this chapter you will be able to**
#
# - use `torchvision.transforms.v2` (geometric and photometric transforms,
#   erasing, an automatic policy, MixUp and CutMix with soft labels);
# - say why a v2 transform on a batched tensor gives every image the same
#   random draw, and run augmentation per image either in a `Dataset` or
#   batched on the device with `F.affine_grid` and `F.grid_sample`;
# - pass an augmentation to `helpers.train.fit(augment=...)`;
# - compare augmentations fairly (strength tuned on validation, several
#   seeds, gain against the seed spread) and read a learning curve
#   horizontally to say how many labels an augmentation is worth;
# - recognise augmentation that breaks labels, and judge test-time augmentation.

# %% tags=["remove-cell"]
# On Colab, install the course's helpers from the book's repository (same branch as this notebook).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q",
         "git+https://github.com/ai-training-course/ai-training-course@main"],
        check=True,
    )

# %% tags=["parameters"]
SEED = 0  # change to check that the conclusions do not depend on luck
BUDGET = 1.0  # 1.0 runs in about a minute on a 2-core CPU; try 4 or more on a GPU
DOWNLOAD = False  # True (on Colab) also trains on a few labels of Fashion-MNIST, downloaded by torchvision

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_sample_images
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split
from torchvision.transforms import v2

from helpers import glue, setup
from helpers.augment import (
    PerSampleDataset,
    accuracy,
    add_noise,
    compose,
    digits_images,
    flip_horizontal,
    labels_per_class,
    load_torchvision_images,
    mixup_or_cutmix,
    on_images,
    per_class_accuracy,
    per_image,
    random_affine,
    random_erasing,
    rotate_180,
    train_few_labels,
    tta_probabilities,
)
from helpers.exercises import ch09_data_augmentation as ex
from helpers.plots import use_style
from helpers.train import evaluate

DEVICE = setup(SEED)
use_style()
if DEVICE.type == "cpu":
    torch.set_num_threads(1)  # networks this small gain no speed from a second thread, only CPU time
N_SEEDS = max(3, round(3 * BUDGET))  # labelled subsets and initialisations per setting
STEPS = round(150 * max(1.0, BUDGET) ** 0.5)  # optimizer steps per training run
print(f"{N_SEEDS} seeds per setting, {STEPS} steps per run")

# %% [markdown]
# ## 1. What the transforms do, on a photo
#
# `torchvision.transforms.v2` {cite}`torchvision2024transforms` holds the
# standard image transforms. Each is an object you call on an image tensor
# (channels first, `uint8` in 0..255 or float in [0, 1]); random ones draw
# new parameters on every call. We apply one of each to a photo that ships
# with scikit-learn {cite}`pedregosa2011scikit`, and one CutMix of it with
# the second sample photo.

# %%
china, flower = (torch.tensor(image).permute(2, 0, 1) for image in load_sample_images().images)
resize = v2.Resize((120, 180), antialias=True)
china, flower = resize(china), resize(flower)  # (3, 120, 180), uint8
to_float = v2.ToDtype(torch.float32, scale=True)
torch.manual_seed(SEED)
photo_transforms = {
    "original": v2.Identity(),
    "RandomResizedCrop": v2.RandomResizedCrop((120, 180), scale=(0.3, 1.0)),
    "RandomRotation(30)": v2.RandomRotation(30),
    "RandomAffine (shift, zoom, shear)": v2.RandomAffine(degrees=0, translate=(0.2, 0.2), scale=(0.8, 1.2), shear=10),
    "RandomHorizontalFlip": v2.RandomHorizontalFlip(p=1.0),
    "ColorJitter": v2.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1),
    "GaussianNoise(0.1)": v2.Compose([to_float, v2.GaussianNoise(sigma=0.1)]),
    "RandomErasing": v2.Compose([to_float, v2.RandomErasing(p=1.0, scale=(0.05, 0.2))]),
    "ElasticTransform": v2.ElasticTransform(alpha=80.0),
    "TrivialAugmentWide": v2.TrivialAugmentWide(),
    "RandAugment": v2.RandAugment(),
}
photo_views = {name: transform(china) for name, transform in photo_transforms.items()}
pair, pair_labels = to_float(torch.stack([china, flower])), torch.tensor([0, 1])
mixed, soft_labels = v2.CutMix(num_classes=2, alpha=1.0)(pair, pair_labels)
photo_views[f"CutMix: label ({soft_labels[0, 0]:.2f}, {soft_labels[0, 1]:.2f})"] = mixed[0]
print(f"CutMix turned the labels {pair_labels.tolist()} into soft labels, one row per image:")
print(soft_labels.numpy().round(2))

# %% mystnb={"image": {"alt": "Twelve versions of a photo of a Chinese temple: the original, a random crop, a rotation with black corners, a shifted and zoomed copy, a mirror image, changed colours, added noise, a black erased rectangle, a wavy elastic distortion, two automatic-policy results, and a CutMix with a box from a photo of a flower."}}
def as_picture(image):
    image = to_float(image) if image.dtype == torch.uint8 else image
    return image.clamp(0, 1).permute(1, 2, 0).numpy()


fig, axes = plt.subplots(3, 4, figsize=(10, 5.4))
for ax, (name, image) in zip(axes.flat, photo_views.items()):
    ax.imshow(as_picture(image))
    ax.set_title(name, fontsize=8)
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every panel is still a temple, which is the point: for photos of
# objects, these transformations keep the label. Geometric transforms
# (crop, rotation, shift, flip, elastic distortion) move pixels; photometric
# ones (colour jitter, noise) change their values; **random erasing**
# {cite}`zhong2020random` hides a rectangle, so the model cannot rely on one
# part of the object. **TrivialAugmentWide** {cite}`muller2021trivialaugment`
# and **RandAugment** {cite}`cubuk2020randaugment` are *automatic
# policies*: for each image they pick one (or a few) operations and a
# strength at random from a fixed list, so there is little or nothing to
# tune. **MixUp** {cite}`zhang2018mixup` and **CutMix** {cite}`yun2019cutmix`
# go further and combine two images: MixUp blends them, CutMix pastes a box
# of one into the other, and the label becomes the same mixture of the two
# labels (printed above), a *soft label* that cross-entropy accepts as a
# target distribution. Augmentation of this kind goes back at least to the
# distortions Simard et al. used for handwritten digits
# {cite}`simard2003best`; Shorten and Khoshgoftaar survey the field
# {cite}`shorten2019survey`.
#
# ## 2. The chapter's data, and where augmentation runs
#
# The experiments use scikit-learn's 1,797 handwritten digits
# {cite}`alpaydin1998digits`, 8x8 pixels, as images of shape `(1, 8, 8)`
# with pixels in [0, 1]. At this size a small network trains in a fraction
# of a second, which is what lets us repeat every experiment over several
# seeds within the chapter's budget. We split once: a *pool* from which the
# few labelled training examples are drawn, a validation set that tunes
# every augmentation, and a test set used only for the final table.

# %%
X_all, y_all = digits_images()
idx_pool, idx_rest = train_test_split(np.arange(len(y_all)), test_size=800, stratify=y_all.numpy(),
                                      random_state=SEED)
idx_val, idx_test = train_test_split(idx_rest, train_size=300, stratify=y_all[idx_rest].numpy(), random_state=SEED)
X_pool, y_pool = X_all[idx_pool], y_all[idx_pool]
val = (X_all[idx_val], y_all[idx_val])
test = (X_all[idx_test], y_all[idx_test])
print(f"images {tuple(X_all.shape[1:])}, pool {len(idx_pool)}, validation {len(idx_val)}, test {len(idx_test)}")


def few_labels(k, seed):
    """k labelled images of each digit from the pool: a different draw for every seed."""
    chosen = labels_per_class(y_pool.numpy(), k, seed=seed)
    return X_pool[chosen], y_pool[chosen]


# %% [markdown]
# ### One random draw per call
#
# A v2 transform draws its random parameters once per *call*. Called on a
# batched tensor `(n, 1, 8, 8)`, it treats the whole batch as one image
# with `n` frames and moves every image the same way. We apply
# `v2.RandomAffine` to eight copies of one digit, then `random_affine` from
# `helpers.augment`, which draws an angle, a shift and a zoom for each image
# and resamples all of them in one call: `F.affine_grid` turns the
# `(n, 2, 3)` matrices into the positions to read, and `F.grid_sample`
# reads the pixels there by bilinear interpolation, the two operations of a
# spatial transformer network {cite}`jaderberg2015spatial`.

# %% tags=["nbval-check-output"]
eights = X_pool[y_pool == 8][:1].repeat(8, 1, 1, 1)  # eight copies of one image of an 8
torch.manual_seed(SEED)
v2_batch = v2.RandomAffine(degrees=20, translate=(0.15, 0.15))(eights)
batched = random_affine(eights, degrees=20, translate=0.15)


def n_distinct(images):
    return len(torch.unique(images.flatten(1), dim=0))


print(f"v2.RandomAffine on the batch: {n_distinct(v2_batch)} distinct image(s) among 8")
print(f"random_affine on the batch:   {n_distinct(batched)} distinct images among 8")
assert n_distinct(v2_batch) == 1 and n_distinct(batched) == 8

# %% mystnb={"image": {"alt": "Two rows of eight small digit images. Top row, v2.RandomAffine applied to a batch: all eight are the same shifted 8. Bottom row, random_affine: each 8 is rotated and shifted differently."}}
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for row, (images, name) in enumerate(((v2_batch, "v2 on a batch"), (batched, "random_affine"))):
    for col in range(8):
        axes[row, col].imshow(images[col, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].axis("off")
    axes[row, 0].set_title(name, fontsize=8, loc="left")
fig.tight_layout()
plt.show()

# %% [markdown]
# The top row is one random transformation repeated eight times: a model
# trained on such batches sees less variety than we asked for. There are two
# ways to get a new draw per image.
#
# 1. **Per sample**, as torchvision's examples do: a `Dataset` applies the
#    transform to one image at a time, and a `DataLoader` stacks the results
#    into batches (`PerSampleDataset` in `helpers.augment`).
# 2. **Batched, on the device**: one call transforms the whole batch with
#    its own parameters per image (`random_affine`), inside the training
#    loop, where the batch already is. `fit(augment=f)` calls
#    `f(X_batch, y_batch)` on every training batch for exactly this.
#
# We time one epoch over the pool's images both ways, with the same
# transformation (rotations up to 10°, shifts up to 6%, zoom up to 6%).

# %%
v2_affine = v2.RandomAffine(degrees=10, translate=(0.06, 0.06), scale=(0.94, 1.06))
loader = torch.utils.data.DataLoader(PerSampleDataset(X_pool, y_pool, v2_affine), batch_size=32, shuffle=True)
X_pool_device = X_pool.to(DEVICE)


def per_sample_epoch():
    for X_b, _ in loader:
        X_b.to(DEVICE)


def batched_epoch():
    order = torch.randperm(len(X_pool_device), device=DEVICE)
    for first in range(0, len(order), 32):
        random_affine(X_pool_device[order[first : first + 32]], degrees=10, translate=0.06, scale=0.06)
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def best_seconds(epoch, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return min(times)


batched_epoch()  # warm up
per_sample_s, batched_s = best_seconds(per_sample_epoch), best_seconds(batched_epoch)
glue("per_sample_ms", per_sample_s * 1e3, fmt=".0f")
glue("batched_ms", batched_s * 1e3, fmt=".1f")
glue("batched_speedup", per_sample_s / batched_s, fmt=".0f")
print(f"one epoch of {len(X_pool)} images on {DEVICE.type}: per-sample DataLoader {per_sample_s * 1e3:.0f} ms, "
      f"batched random_affine {batched_s * 1e3:.1f} ms ({per_sample_s / batched_s:.0f}x faster)")

# %% [markdown]
# Per sample, the epoch took {glue:text}`per_sample_ms` ms; batched,
# {glue:text}`batched_ms` ms, about {glue:text}`batched_speedup` times less
# (timings from this run; they vary from machine to machine). The per-sample
# path pays a Python call, a small matrix and a resampling for every image,
# and then a copy of the batch to the device; the batched path pays them once
# per batch, on the device. For large images loaded from disk the per-sample
# `DataLoader` with worker processes is the right tool, because decoding and
# augmenting overlap with training. For a small data set that already lives
# on the GPU, batched augmentation keeps it there, and the cost of
# augmentation all but disappears.
#
# ## 3. The "Data Augmentation" table
#
# Augmentation matters most when labels are few. We train the same small
# convolutional network (`SmallCNN`: two 3x3 convolutions, a max-pool and
# a linear layer) on 5, 10 or 20 labelled digits per class, for the same
# number of optimizer steps whatever the training-set size, keeping the
# last weights (no validation data take part in training, so the validation
# set stays free to compare the methods). The contenders, each a function
# given to `fit(augment=...)`:
#
# | method | what it does | strength tuned |
# |---|---|---|
# | geometric | `random_affine`: rotation up to $10s$°, shift and zoom up to $5s$% | $s$ |
# | noise | `add_noise`: Gaussian noise on every pixel | its standard deviation |
# | erasing | `random_erasing`: a rectangle of 5 to 25% of the image set to 0 | probability per image |
# | MixUp/CutMix | torchvision's `v2.MixUp` or `v2.CutMix`, one chosen per batch, soft labels | $\alpha$ of $\lambda\sim\mathrm{Beta}(\alpha,\alpha)$ |
# | TrivialAugmentWide | the automatic policy, one call per image (`per_image`) | nothing (tuning-free by design) |
# | geometric + best other | the tuned geometric transform, then the best of noise, erasing and MixUp/CutMix | nothing more |
#
# **Tuning.** Each method's strength is chosen on the validation set, at 10
# labels per class, by the mean accuracy over the seeds, from its own grid
# whose largest value is too strong. The same strength is then used at 5 and
# 20 labels per class (tuning at every size would triple the cost). Each seed
# draws a different labelled subset and a different initialisation, and
# every method sees the same subsets, so the gain over no augmentation is
# measured seed by seed (a *paired* difference).

# %%
GRIDS = {
    "geometric": {s: on_images(random_affine, degrees=10 * s, translate=0.05 * s, scale=0.05 * s) for s in (0.5, 1, 2, 4)},
    "noise": {std: on_images(add_noise, std=std) for std in (0.1, 0.2, 0.4)},
    "erasing": {p: on_images(random_erasing, p=p) for p in (0.25, 0.5, 1.0)},
    "MixUp/CutMix": {alpha: mixup_or_cutmix(10, alpha=alpha) for alpha in (0.2, 1.0, 5.0, 25.0)},
}
seeds = [1000 * SEED + i for i in range(N_SEEDS)]
models = {}  # (method, k, seed) -> trained model, for the analyses below


def train_all(augment, k):
    """One model per seed, each on its own labelled subset; returns them with their validation accuracies."""
    trained = [train_few_labels(few_labels(k, s), augment, seed=s, steps=STEPS, device=DEVICE)[0] for s in seeds]
    return trained, np.array([accuracy(m, *val) for m in trained])


start = time.perf_counter()
baseline_models, none_val10 = train_all(None, 10)
tuning_rows, chosen = [], {}
for method, grid in GRIDS.items():
    results = {setting: train_all(augment, 10) for setting, augment in grid.items()}
    for setting, (_, accs) in results.items():
        tuning_rows.append({"method": method, "strength": setting, "validation accuracy": accs.mean(),
                            "sd": accs.std(ddof=1), "gain over none": (accs - none_val10).mean()})
    best = max(results, key=lambda setting: results[setting][1].mean())
    chosen[method] = best
    for s, model in zip(seeds, results[best][0]):
        models[(method, 10, s)] = model
for s, model in zip(seeds, baseline_models):
    models[("none", 10, s)] = model
tuning = pd.DataFrame(tuning_rows).set_index(["method", "strength"])
print(f"no augmentation, 10 labels per class: validation accuracy {none_val10.mean():.3f} ± {none_val10.std(ddof=1):.3f}")
tuning.round(3)

# %%
for method, grid in GRIDS.items():
    settings = list(grid)
    print(f"{method:13s} best strength {chosen[method]} (grid {settings})")
    if method != "MixUp/CutMix":  # its grid spans the whole range of alpha (see below)
        assert chosen[method] != settings[-1], f"{method}: the best strength is the largest tried; widen the grid"
strongest_geo = tuning.loc[("geometric", list(GRIDS["geometric"])[-1])]
glue("geo_too_strong", float(list(GRIDS["geometric"])[-1]))
glue("geo_too_strong_degrees", 10 * float(list(GRIDS["geometric"])[-1]), fmt=".0f")
glue("geo_too_strong_shift", 0.05 * float(list(GRIDS["geometric"])[-1]), fmt=".0%")
glue("geo_too_strong_loss", -float(strongest_geo["gain over none"]), fmt=".1%")
print(f"the strongest geometric setting (rotations up to {10 * float(list(GRIDS['geometric'])[-1]):.0f} degrees, "
      f"shifts up to {0.05 * float(list(GRIDS['geometric'])[-1]):.0%}) changes validation accuracy by "
      f"{float(strongest_geo['gain over none']):+.1%} against no augmentation")
# Too strong a distortion costs far more than the seed spread (about 2 points) in every run seen.
assert strongest_geo["gain over none"] < -0.03, "rotations up to 40 degrees and 20% shifts should hurt 8x8 digits"

# %% [markdown]
# For the geometric transform, noise and erasing the best strength is not
# the largest tried, so the grids reach far enough; where the best is the
# smallest, the next step down is no augmentation at all, which is in the
# table too. MixUp/CutMix's grid spans the whole range of its parameter:
# $\alpha = 0.2$ draws $\lambda$ near 0 or 1 (little mixing), and
# $\alpha = 25$ is close to the limit of large $\alpha$, where every pair
# is mixed half and half; its validation accuracy varies little across the
# grid, so which $\alpha$ wins changes from seed to seed. Too much hurts: the
# geometric transform at $s =$ {glue:text}`geo_too_strong` (rotations up to
# {glue:text}`geo_too_strong_degrees`° and shifts up to {glue:text}`geo_too_strong_shift`
# of the image) costs
# {glue:text}`geo_too_strong_loss` of validation accuracy. Now every method
# at its chosen strength, at each size, with the test set touched once at
# the end.

# %%
def best_other():
    others = ["noise", "erasing", "MixUp/CutMix"]
    return max(others, key=lambda m: tuning.loc[(m, chosen[m]), "validation accuracy"])


METHODS = {
    "none": None,
    "geometric": GRIDS["geometric"][chosen["geometric"]],
    "noise": GRIDS["noise"][chosen["noise"]],
    "erasing": GRIDS["erasing"][chosen["erasing"]],
    "MixUp/CutMix": GRIDS["MixUp/CutMix"][chosen["MixUp/CutMix"]],
    "TrivialAugmentWide": per_image(v2.TrivialAugmentWide(), as_uint8=True),
    f"geometric + {best_other()}": compose(GRIDS["geometric"][chosen["geometric"]],
                                           GRIDS[best_other()][chosen[best_other()]]),
}
COMBO = f"geometric + {best_other()}"
LABELS = [5, 10, 20]
for k in LABELS:
    for method, augment in METHODS.items():
        if (method, k, seeds[0]) in models:
            continue
        for s, model in zip(seeds, train_all(augment, k)[0]):
            models[(method, k, s)] = model
table_seconds = time.perf_counter() - start

# The test set, once, for every chosen configuration.
test_acc = {key: accuracy(model, *test) for key, model in models.items()}
dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y_pool), 1)), y_pool.numpy())
dummy_acc = float((dummy.predict(np.zeros((len(test[1]), 1))) == test[1].numpy()).mean())


def accs(method, k):
    return np.array([test_acc[(method, k, s)] for s in seeds])


rows, gains = {}, {}
for method in METHODS:
    row = {}
    for k in LABELS:
        a, gain = accs(method, k), accs(method, k) - accs("none", k)
        gains[(method, k)] = gain
        row[f"{k}/class"] = f"{a.mean():.3f} ± {a.std(ddof=1):.3f}"
        if method != "none":
            clear = "" if abs(gain.mean()) > gain.std(ddof=1) else " ~"
            row[f"gain {k}"] = f"{gain.mean():+.3f} ± {gain.std(ddof=1):.3f}{clear}"
    rows[method] = row
rows["dummy (most frequent class)"] = {f"{k}/class": f"{dummy_acc:.3f}" for k in LABELS}
augmentation_table = pd.DataFrame(rows).T.fillna("")[[f"{k}/class" for k in LABELS] + [f"gain {k}" for k in LABELS]]
print(f"test accuracy, mean ± sd over {N_SEEDS} seeds; gain = paired difference from none; "
      "~ marks a gain within its spread")
print(f"chosen strengths: {chosen}; {len(models)} models trained in {table_seconds:.0f} s")
augmentation_table

# %%
for k in LABELS:
    glue(f"none_{k}", float(accs("none", k).mean()), fmt=".1%")
    for method, key in (("geometric", "geo"), ("MixUp/CutMix", "mix"), ("TrivialAugmentWide", "trivial"),
                        (COMBO, "combo"), ("noise", "noise"), ("erasing", "erasing")):
        glue(f"gain_{key}_{k}", float(gains[(method, k)].mean()), fmt="+.1%")
        glue(f"gain_{key}_{k}_sd", float(gains[(method, k)].std(ddof=1)), fmt=".1%")
glue("dummy_acc", dummy_acc, fmt=".1%")
glue("combo_name", COMBO)
mean_gains = pd.DataFrame({k: {m: gains[(m, k)].mean() for m in METHODS if m != "none"} for k in LABELS})
clear_gains = [(m, k) for m in METHODS if m != "none" for k in LABELS
               if gains[(m, k)].mean() > gains[(m, k)].std(ddof=1)]
glue("n_clear_gains", len(clear_gains))
glue("n_gains", int(mean_gains.size))
glue("best_gain", float(mean_gains.max().max()), fmt="+.1%")
best_gain_method, best_gain_k = mean_gains.stack().idxmax()
glue("best_gain_method", best_gain_method)
glue("best_gain_k", int(best_gain_k))
gain_text = pd.DataFrame({f"gain {k}/class": {m: f"{gains[(m, k)].mean():+.1%} ± {gains[(m, k)].std(ddof=1):.1%}"
                                              for m in METHODS if m != "none"} for k in LABELS})
print("test-accuracy gain over no augmentation, mean ± sd over seeds:")
print(gain_text.to_string())
print(f"dummy (most frequent class) {dummy_acc:.1%}; combination: {COMBO}; largest mean gain: {best_gain_method}")
print(f"{len(clear_gains)} of {mean_gains.size} gains are larger than their spread: {clear_gains}")
print(f"largest mean gain {mean_gains.max().max():+.3f}; none at 5 / 10 / 20 labels per class: "
      + " / ".join(f"{accs('none', k).mean():.3f}" for k in LABELS))
assert all(accs(m, k).mean() > dummy_acc + 0.5 for m in METHODS for k in LABELS), "every network beats the dummy"
assert accs("none", 20).mean() > accs("none", 5).mean() + 0.03, "more labels help"

# %% [markdown]
# The **Data Augmentation** table above reads as follows. Without
# augmentation the network reaches {glue:text}`none_5`,
# {glue:text}`none_10` and {glue:text}`none_20` test accuracy with 5, 10 and
# 20 labels per class (a classifier that always says the most frequent digit
# gets {glue:text}`dummy_acc`). The gains columns are paired differences
# from no augmentation, mean ± standard deviation over the seeds; a `~`
# marks a gain whose mean is not larger than its spread, which this run
# cannot tell from zero. {glue:text}`n_clear_gains` of the
# {glue:text}`n_gains` gains are larger than their spread; the largest mean
# gain is {glue:text}`best_gain`, by {glue:text}`best_gain_method` at
# {glue:text}`best_gain_k` labels per class.
# The geometric transform gains {glue:text}`gain_geo_5` ±
# {glue:text}`gain_geo_5_sd` at 5 labels per class, {glue:text}`gain_geo_10`
# ± {glue:text}`gain_geo_10_sd` at 10 and {glue:text}`gain_geo_20` ±
# {glue:text}`gain_geo_20_sd` at 20; MixUp/CutMix {glue:text}`gain_mix_5`,
# {glue:text}`gain_mix_10` and {glue:text}`gain_mix_20`; the combination
# ({glue:text}`combo_name`) {glue:text}`gain_combo_5`,
# {glue:text}`gain_combo_10` and {glue:text}`gain_combo_20`.
#
# What the run shows, and no more:
#
# - Gains from augmentation on this problem are a few points at most, the
#   size of the differences between two random draws of the labelled
#   examples. A single run with one seed could rank the methods in any
#   order; only the paired, multi-seed comparison says anything.
# - **TrivialAugmentWide** gains {glue:text}`gain_trivial_5`,
#   {glue:text}`gain_trivial_10` and {glue:text}`gain_trivial_20` with no
#   tuning at all, although it was designed for photos of 32x32 pixels and
#   more: its shifts go up to 32 pixels and its rotations up to 135°, so
#   some of its draws leave an 8x8 digit unreadable or empty.
# - Erasing ({glue:text}`gain_erasing_10` at 10 labels per class) and noise
#   ({glue:text}`gain_noise_10`) encode invariances that are only roughly
#   true for 8x8 digits, where a 2x2 block can be the whole difference
#   between a 3 and an 8; a loss larger than its spread (no `~`) is a real
#   cost of the augmentation.
# - The geometric transform buys little, and scikit-learn's digits say why:
#   they were centred and size-normalised when the data set was made
#   {cite}`alpaydin1998digits`, so the test images hardly vary in position
#   or size either. An augmentation helps with the variation the test data
#   will show (Exercise 4 measures a case where that variation is there).
#
# ## 4. How many labels is augmentation worth?
#
# A learning curve plots accuracy against the number of labelled examples.
# Read *horizontally*, it answers a practical question: how many more real
# labels would we need, without augmentation, to match the accuracy that
# augmentation gives? We add 40 and 80 labels per class for no augmentation
# and for the augmentation that did best on validation.

# %%
best_method = max([m for m in METHODS if m != "none"],
                  key=lambda m: np.mean([accuracy(models[(m, 10, s)], *val) for s in seeds]))
CURVE_LABELS = LABELS + [40]
for k in CURVE_LABELS[len(LABELS):]:
    for method in ("none", best_method):
        for s, model in zip(seeds, train_all(METHODS[method], k)[0]):
            models[(method, k, s)] = model
            test_acc[(method, k, s)] = accuracy(model, *test)
curve = pd.DataFrame({method: [accs(method, k).mean() for k in CURVE_LABELS] for method in ("none", best_method)},
                     index=pd.Index(CURVE_LABELS, name="labels per class"))
curve_sd = pd.DataFrame({method: [accs(method, k).std(ddof=1) for k in CURVE_LABELS] for method in ("none", best_method)},
                        index=curve.index)


def labels_needed(accuracy_target):
    """Labels per class at which the no-augmentation curve reaches the target (log-linear interpolation)."""
    none_curve = curve["none"].to_numpy()
    if accuracy_target <= none_curve[0]:
        return float(CURVE_LABELS[0])
    if accuracy_target >= none_curve.max():
        return math.inf
    for i in range(len(CURVE_LABELS) - 1):
        low, high = none_curve[i], none_curve[i + 1]
        if low <= accuracy_target <= high and high > low:
            t = (accuracy_target - low) / (high - low)
            return float(np.exp(np.log(CURVE_LABELS[i]) + t * np.log(CURVE_LABELS[i + 1] / CURVE_LABELS[i])))
    return math.inf


worth = {k: labels_needed(curve.loc[k, best_method]) for k in LABELS}
print(f"augmentation: {best_method} (best on validation at 10 labels per class)")
print((curve.round(3).astype(str) + " ± " + curve_sd.round(3).astype(str)).to_string())
for k in LABELS:
    print(f"{best_method} with {k} labels per class ~ no augmentation with {worth[k]:.0f} labels per class")

# %% mystnb={"image": {"alt": "Learning curves: test accuracy against labels per class on a log scale, with and without augmentation, each with a band of one standard deviation over seeds. Both rise with more labels and stay close to each other; the gap between them narrows as labels grow."}}
fig, ax = plt.subplots(figsize=(6, 3.4))
for method, colour in (("none", "tab:blue"), (best_method, "tab:orange")):
    ax.plot(CURVE_LABELS, curve[method], marker="o", color=colour, label=method)
    ax.fill_between(CURVE_LABELS, curve[method] - curve_sd[method], curve[method] + curve_sd[method],
                    color=colour, alpha=0.2)
ax.set_xscale("log")
ax.set_xticks(CURVE_LABELS, [str(k) for k in CURVE_LABELS])
ax.set_xlabel("labelled examples per class")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()

# %%
glue("best_method", best_method)
glue("worth_10", worth[10], fmt=".0f")
glue("worth_5", worth[5], fmt=".0f")
glue("curve_none_40", float(curve.loc[40, "none"]), fmt=".1%")
glue("curve_none_5", float(curve.loc[5, "none"]), fmt=".1%")
for k in (20, 40):
    glue(f"curve_diff_{k}", float(curve.loc[k, best_method] - curve.loc[k, "none"]), fmt="+.1%")
print(f"chosen: {best_method}; at 5 / 10 labels per class it is worth "
      f"{worth[5]:.0f} / {worth[10]:.0f} plain labels per class; none at 5 / 40 labels per class: "
      f"{curve.loc[5, 'none']:.1%} / {curve.loc[40, 'none']:.1%}")
print(f"{best_method} minus none: " + ", ".join(
    f"{float(curve.loc[k, best_method] - curve.loc[k, 'none']):+.1%} at {k} labels per class" for k in (20, 40)))
glue("curve_sd", float(curve_sd.to_numpy().mean()), fmt=".1%")
print(f"mean seed spread (sd) of the learning curves: {float(curve_sd.to_numpy().mean()):.1%}")
# The 5 -> 40 labels rise (about 9 points) is many times the seed spread (about 1 point) at every seed tried.
assert curve.loc[40, "none"] > curve.loc[5, "none"] + 0.05, "more real labels help"
assert curve.loc[40, "none"] > curve.loc[5, best_method] + 0.03, "more than augmentation does at 5 labels per class"

# %% [markdown]
# The augmentation chosen on validation is **{glue:text}`best_method`**.
# Read horizontally, by interpolating the plain curve on the log scale: with
# 5 labels per class it is as accurate as no augmentation with
# {glue:text}`worth_5` labels per class, and with 10 as accurate as
# {glue:text}`worth_10`. With more labels the difference shrinks or turns negative
# ({glue:text}`curve_diff_20` at 20 and {glue:text}`curve_diff_40` at 40
# labels per class, against a seed spread of about {glue:text}`curve_sd`):
# what augmentation teaches, more data teaches too, and with enough data the
# augmented model can even fall behind. More real labels move
# accuracy much further, from {glue:text}`curve_none_5` at 5 per class to
# {glue:text}`curve_none_40` at 40. Augmentation is worth a few labels here,
# not an order of magnitude.
#
# ## 5. Augmentation that breaks labels
#
# An augmentation is only label-preserving if the invariance is true for
# the task. For photos of temples, a mirror image is still a temple. For
# digits, a 180° rotation turns a 6 into a 9 (and a 9 into a 6), and a
# horizontal flip mirrors 2, 3, 4, 5, 7 and 9 into shapes that are no digit
# at all. We add each to the tuned geometric augmentation, half of the
# images at random, and measure accuracy per class on the validation set at
# 20 labels per class.

# %%
geometric = METHODS["geometric"]
breaking = {
    "geometric": None,
    "+ rotate 180°": compose(geometric, on_images(rotate_180, p=0.5)),
    "+ horizontal flip": compose(geometric, on_images(flip_horizontal, p=0.5)),
}
per_class = {}
for name, augment in breaking.items():
    trained = [models[("geometric", 20, s)] for s in seeds] if augment is None else train_all(augment, 20)[0]
    per_class[name] = np.mean([per_class_accuracy(m, *val) for m in trained], axis=0)
per_class = pd.DataFrame(per_class, index=pd.Index(range(10), name="digit"))
per_class.loc["all"] = per_class.mean()
per_class.round(3).T

# %% mystnb={"image": {"alt": "Bar chart of the change in validation accuracy per digit when a 180 degree rotation or a horizontal flip is added to the augmentation. The rotation lowers 6 and 9, which it turns into each other, more than most digits; the flip lowers several asymmetric digits."}}
change = per_class.drop(index="all")[["+ rotate 180°", "+ horizontal flip"]].sub(per_class["geometric"].drop("all"), axis=0)
ax = change.plot.bar(figsize=(7, 3), width=0.8)
ax.axhline(0, color="black", linewidth=0.8)
ax.set_xlabel("digit")
ax.set_ylabel("change in accuracy")
ax.set_title("adding a label-breaking transform to the geometric augmentation")
plt.xticks(rotation=0)
plt.show()

# %%
drop_69 = float(per_class.loc[[6, 9], "geometric"].mean() - per_class.loc[[6, 9], "+ rotate 180°"].mean())
drop_others = float(per_class.loc[[0, 1, 2, 3, 4, 5, 7, 8], "geometric"].mean()
                    - per_class.loc[[0, 1, 2, 3, 4, 5, 7, 8], "+ rotate 180°"].mean())
flip_drop = float(per_class.loc["all", "geometric"] - per_class.loc["all", "+ horizontal flip"])
worst_flip = int(change["+ horizontal flip"].idxmin())
glue("rot_drop_69", drop_69, fmt=".1%")
glue("rot_drop_others", drop_others, fmt=".1%")
glue("flip_drop", flip_drop, fmt=".1%")
glue("worst_flip_digit", worst_flip)
print(f"180° rotation: 6 and 9 lose {drop_69:.3f} on average, the other digits {drop_others:.3f}")
print(f"horizontal flip: {flip_drop:.3f} overall, most on digit {worst_flip}")
# Over seeds 0-4 the 6/9 drop was several times the seed spread of a per-class accuracy (a few points).
assert drop_69 > 0.1 and drop_69 > drop_others + 0.05, "a 180° rotation confuses 6 and 9"

# %% [markdown]
# The 180° rotation costs 6 and 9 {glue:text}`rot_drop_69` of their
# accuracy on average, against {glue:text}`rot_drop_others` for the other
# digits: half of the training images of each of the two classes now look
# like the other class, so the network cannot tell them apart. The
# horizontal flip changes overall accuracy by {glue:text}`flip_drop` (most
# for digit {glue:text}`worst_flip_digit`). A transform that changes the
# class is not augmentation but label noise; which transforms are safe is a
# fact about the task (a flip is harmless for cats, harmful for digits and
# text), to be checked per class, since the overall accuracy can hide a
# class that collapses.
#
# ## 6. Test-time augmentation
#
# Augmentation can also run at prediction time: classify several
# transformed copies of each test image and average the predicted
# probabilities, **test-time augmentation** (TTA), used for instance by
# Krizhevsky et al. {cite}`krizhevsky2012imagenet` over crops and mirror
# images. `tta_probabilities` averages the softmax over the image itself and
# seven random views. Whether to use TTA is a choice, so we measure it on
# the validation set, for the models trained with and without the
# geometric augmentation, using the same geometric transform for the views.

# %%
tta_view = lambda X: random_affine(X, degrees=10 * chosen["geometric"], translate=0.05 * chosen["geometric"],
                                   scale=0.05 * chosen["geometric"])
tta_rows = {}
torch.manual_seed(SEED)
for method in ("none", "geometric"):
    for k in LABELS:
        plain = np.array([accuracy(models[(method, k, s)], *val) for s in seeds])
        with_tta = np.array([(tta_probabilities(models[(method, k, s)], val[0], tta_view, n_views=8).argmax(1)
                              == val[1]).float().mean().item() for s in seeds])
        tta_rows[(f"trained with {method}", k)] = {"plain": plain.mean(), "TTA (8 views)": with_tta.mean(),
                                                  "gain": (with_tta - plain).mean(),
                                                  "gain sd": (with_tta - plain).std(ddof=1)}
tta = pd.DataFrame(tta_rows).T
tta.index.names = ["model", "labels per class"]
tta.round(3)

# %%
glue("tta_gain_geo", float(tta.loc["trained with geometric", "gain"].mean()), fmt="+.1%")
glue("tta_gain_none", float(tta.loc["trained with none", "gain"].mean()), fmt="+.1%")
glue("tta_gain_sd", float(tta["gain sd"].mean()), fmt=".1%")
print(f"mean TTA gain: model trained with geometric {tta.loc['trained with geometric', 'gain'].mean():+.3f}, "
      f"without augmentation {tta.loc['trained with none', 'gain'].mean():+.3f}; typical sd {tta['gain sd'].mean():.3f}")

# %% [markdown]
# Averaged over the three sizes, TTA changes validation accuracy by
# {glue:text}`tta_gain_geo` for the models trained with the geometric
# augmentation and by {glue:text}`tta_gain_none` for those trained without
# it, against a typical seed spread of the gain of {glue:text}`tta_gain_sd`.
# TTA costs one forward pass per view at prediction time, every time the
# model is used; here it buys little or nothing that the spread lets us see,
# and views the model never saw in training can hurt it. As with every
# other setting, keep it only if it wins on validation.
#
# ## 7. Augmentation as regularisation
#
# Chapter 6 ([Regularization](06_regularization)) diagnosed overfitting as
# a gap between the training and validation scores. Augmentation is a
# regulariser too {cite}`goodfellow2016deep`: it never lets the network see
# exactly the same training image twice, so memorising the training set
# becomes harder. We compare, at 10 labels per class, the clean training
# images' loss and accuracy with the validation ones.

# %%
loss_fn = torch.nn.CrossEntropyLoss()
gap_rows = {}
for method in ("none", "geometric", best_method):
    scores = []
    for s in seeds:
        model = models[(method, 10, s)]
        on_train = evaluate(model, *few_labels(10, s), loss_fn=loss_fn)
        on_val = evaluate(model, *val, loss_fn=loss_fn)
        scores.append([on_train["loss"], on_val["loss"], on_train["accuracy"], on_val["accuracy"]])
    train_loss, val_loss, train_acc, val_acc = np.mean(scores, axis=0)
    gap_rows[method] = {"train loss": train_loss, "validation loss": val_loss, "train accuracy": train_acc,
                        "validation accuracy": val_acc, "accuracy gap": train_acc - val_acc}
gaps = pd.DataFrame(gap_rows).T
gaps.round(3)

# %%
glue("gap_none", float(gaps.loc["none", "accuracy gap"]), fmt=".1%")
glue("gap_geo", float(gaps.loc["geometric", "accuracy gap"]), fmt=".1%")
glue("train_loss_none", float(gaps.loc["none", "train loss"]), fmt=".3f")
glue("train_loss_geo", float(gaps.loc["geometric", "train loss"]), fmt=".3f")
glue("gap_best", float(gaps.loc[best_method, "accuracy gap"]), fmt=".1%")
glue("train_loss_best", float(gaps.loc[best_method, "train loss"]), fmt=".3f")
print(gaps[["train loss", "accuracy gap"]].round(3).to_string())
# The clean training loss was 2 to 4 times higher with augmentation at every seed tried.
assert gaps.loc["geometric", "train loss"] > gaps.loc["none", "train loss"], "augmentation makes memorising harder"
assert gaps.loc[best_method, "train loss"] > gaps.loc["none", "train loss"]

# %% [markdown]
# Without augmentation the network fits its 100 training images almost
# perfectly (clean training loss {glue:text}`train_loss_none`), and the
# accuracy gap to validation is {glue:text}`gap_none`. With augmentation the
# clean training loss is higher, {glue:text}`train_loss_geo` with the
# geometric transform and {glue:text}`train_loss_best` with
# {glue:text}`best_method`: the network fits its training images less
# tightly. The accuracy gap is {glue:text}`gap_geo` and {glue:text}`gap_best`
# respectively; with 100 images the training accuracy is close to 100% either
# way, so the gap moves only as much as the validation accuracy does. A
# smaller gap is not by itself a better model (it also shrinks when the
# training score falls); what counts is the validation score.

# %% [markdown]
# ### On a bigger data set
#
# With `DOWNLOAD = True` (on Colab, say) the same comparison runs on
# Fashion-MNIST {cite}`xiao2017fashion`, 28x28 photos of clothes, loaded by
# `load_torchvision_images` through `torchvision.datasets` (CIFAR-10
# {cite}`krizhevsky2009learning` works the same way). It is off by default:
# the chapter runs offline.

# %%
if DOWNLOAD:
    X_fashion, y_fashion = load_torchvision_images("FashionMNIST", root="data", download=True, limit=12000)
    fashion_val = (X_fashion[10000:], y_fashion[10000:])
    fashion_rows = {}
    for method in ("none", "geometric", "MixUp/CutMix"):
        scores = []
        for s in seeds:
            chosen_idx = labels_per_class(y_fashion[:10000].numpy(), 20, seed=s)
            model, _ = train_few_labels((X_fashion[chosen_idx], y_fashion[chosen_idx]), METHODS[method], seed=s,
                                        steps=STEPS, device=DEVICE)
            scores.append(accuracy(model, *fashion_val))
        fashion_rows[method] = {"accuracy": np.mean(scores), "sd": np.std(scores, ddof=1)}
    print("Fashion-MNIST, 20 labels per class, validation accuracy")
    print(pd.DataFrame(fashion_rows).T.round(3))
else:
    print("DOWNLOAD = False: Fashion-MNIST skipped (set it to True to download about 30 MB and compare there)")

# %% [markdown]
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/09_data_augmentation.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ````{exercise} Diagnose a label-breaking pipeline
# :label: ch09-ex1
# A colleague trains a digits classifier with the pipeline below and finds
# that accuracy falls for most digits as soon as augmentation is switched
# on. One transform changes the class of the images it touches. Build
# `fixed_pipeline`, a `v2.Compose` of the other transforms in the same order.
#
# ```python
# v2.Compose([v2.RandomRotation(10), v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
#             v2.RandomVerticalFlip(p=0.5), v2.GaussianNoise(sigma=0.05)])
# ```
# ````
#
# ```{solution-start} ch09-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch09-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
# Upside down, a 6 reads as a mirrored 9, and 2, 3, 4, 5, 7 become no digit.
fixed_pipeline = v2.Compose([v2.RandomRotation(10), v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
                             v2.GaussianNoise(sigma=0.05)])
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch09-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} Predict, then run: mirror-image TTA
# :label: ch09-ex2
# Take a network trained on 20 digits per class *without* augmentation.
# At test time we average its predicted probabilities for each image and
# for the image's mirror image (a horizontal flip). Will validation accuracy
# be `"higher"`, the `"same"` (within a point) or `"lower"` than without
# TTA? Commit to an answer in `flip_tta_prediction` before you run
# anything; the check runs the experiment itself, and the cell after it
# runs it on this chapter's models.
# ```
#
# ```{solution-start} ch09-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch09-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
# The network never saw a mirrored digit, so half of every average is a
# confused prediction: accuracy goes down.
flip_tta_prediction = "lower"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch09-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %%
mirror = lambda X: torch.flip(X, dims=(3,))
flip_plain = np.array([accuracy(models[("none", 20, s)], *val) for s in seeds])
flip_tta = np.array([(tta_probabilities(models[("none", 20, s)], val[0], mirror, n_views=2).argmax(1) == val[1])
                     .float().mean().item() for s in seeds])
print(f"20 labels per class, no augmentation: validation accuracy {flip_plain.mean():.3f} ± {flip_plain.std(ddof=1):.3f}"
      f" without TTA, {flip_tta.mean():.3f} ± {flip_tta.std(ddof=1):.3f} averaged with the mirror image")

# %% [markdown]
# ```{exercise} A per-image random shift
# :label: ch09-ex3
# The classic augmentation for small images pads them and crops at a
# random place, which shifts each image by whole pixels. Write
# `random_shift(X, max_shift)` for images `X` of shape `(n, C, H, W)`: each
# image moves by its own random number of rows and of columns, each an
# integer from `-max_shift` to `max_shift`, and the uncovered border is 0
# (nothing wraps around to the other side). Return a tensor of the same shape.
# ```
#
# ```{solution-start} ch09-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch09-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def random_shift(X, max_shift):
    ### BEGIN SOLUTION
    n, _, height, width = X.shape
    padded = torch.nn.functional.pad(X, (max_shift, max_shift, max_shift, max_shift))
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2))
    crops = [padded[i, :, top : top + height, left : left + width] for i, (top, left) in enumerate(offsets.tolist())]
    return torch.stack(crops)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch09-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Experiment: augment for the shifts the test data will show
# :label: ch09-ex4
# Section 3 found that geometric augmentation buys little on these digits.
# Part of the reason: scikit-learn's digits are already centred and
# size-normalised, so the test images do not vary in position either.
# Suppose a new scanner delivers digits shifted by up to 2 pixels in each
# direction. `ex.shift_experiment(translate)` trains the chapter's network
# on 10 labels per class twice, without augmentation and with
# `random_affine(X, translate=translate)`, and returns both accuracies on
# such shifted validation digits. Find a value `my_translate` that beats no
# augmentation by at least 5 points; the check reruns the experiment.
# ```
#
# ```{solution-start} ch09-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch09-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
# Shifts of up to 2 of 8 pixels are a quarter of the width; trying
# ex.shift_experiment(t) for t = 0.05, 0.25 and 0.6 confirms the middle one.
my_translate = 0.25
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch09-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - Augmentation trains on label-preserving transformations of the data;
#   each one encodes an invariance, and it helps only where that invariance
#   holds *and* the test data vary that way.
# - `torchvision.transforms.v2` holds the standard transforms. Called on a
#   batched tensor, a v2 transform draws once for the whole batch; run it per
#   sample in a `Dataset`, or use a batched per-image transform on the device
#   (`random_affine`, built on `F.affine_grid` and `F.grid_sample`), which
#   here was {glue:text}`batched_speedup` times faster per epoch.
# - `fit(augment=f)` applies `f(X_batch, y_batch)` to every training batch;
#   MixUp and CutMix return soft labels.
# - On 8x8 digits with 5 to 20 labels per class, {glue:text}`n_clear_gains`
#   of {glue:text}`n_gains` gains were larger than the spread between seeds,
#   the largest {glue:text}`best_gain` ({glue:text}`best_gain_method` at
#   {glue:text}`best_gain_k` labels per class); too strong an augmentation, or a
#   label-breaking one (a 180° rotation costs 6 and 9
#   {glue:text}`rot_drop_69`), clearly hurts. Tune the strength on
#   validation and check accuracy per class.
# - A learning curve read horizontally converts a gain into labels: here
#   augmentation was worth about {glue:text}`worth_10` labels per class at
#   10; real labels moved accuracy much further.
# - Test-time augmentation costs a forward pass per view and bought little
#   here; like any setting, keep it only if it wins on validation.
# - Augmentation regularises: the network fits its clean training images less
#   tightly (Chapter 6).
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
