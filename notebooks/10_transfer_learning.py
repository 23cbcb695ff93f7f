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
# # Chapter 10: Transfer learning, and checkpoints that survive a lost session
#
# Labels are expensive; networks trained on *other* data are everywhere.
# **Transfer learning** reuses a network trained on a *source* task, where
# data was plentiful, for a *target* task that has only a few labels: keep
# the part that turns inputs into features (the **backbone**), give it a new
# last layer (the **head**), and train as little as the target data allows.
# This chapter pretrains a small network once, saves it, and compares fairly
# the ways to reuse it, from 2 to 20 labels per class. It then shows when
# transfer does *not* help, how to tell cheaply before spending compute, what
# the practitioner's code for a real pretrained image model looks like, and
# how checkpoints let a training run survive a lost Colab session.
#
# **After this chapter you will be able to**
#
# - pretrain a backbone, save its weights, and load them under a new head;
# - adapt it in four ways: a linear probe on frozen features, full
#   fine-tuning, fine-tuning with a smaller learning rate for the backbone
#   (parameter groups), and compare them with training from scratch, each
#   tuned on validation data;
# - say how the answer changes with the number of labels per class;
# - recognise negative transfer, and test for it with a cheap linear probe;
# - replace the last layer of torchvision's pretrained ResNet-18;
# - checkpoint a training run and resume it exactly after an interruption.

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
DOWNLOAD_PRETRAINED = False  # True downloads torchvision's ImageNet ResNet-18 weights (about 45 MB), e.g. on Colab

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from mnist1d.data import get_templates
from sklearn.dummy import DummyClassifier
from torch import nn

from helpers import glue, setup
from helpers.checkpoint import load_checkpoint, load_weights, save_weights
from helpers.data import load
from helpers.exercises import ch10_transfer_learning as ex
from helpers.plots import use_style
from helpers.train import Callback, evaluate, fit, predict
from helpers.transfer import (
    HYPERPARAMETER, METHODS, FewLabelSetup, MLPNet, TransferNet, accuracy, features, fine_tune, labels_per_class,
    linear_cka, new_templates, param_groups, resnet18_for, run_method, split_digits, target_task, tune,
)

DEVICE = setup(SEED)
use_style()
torch.set_num_threads(1)  # tiny networks and batches: a second thread costs more than it saves
WORKDIR = tempfile.TemporaryDirectory()  # every file this run writes lives here and is deleted with it

# %% [markdown]
# ## 1. A source task and a target task
#
# The source task is MNIST-1D {cite}`greydanus2020mnist1d`: 1-D signals of
# 40 points, each a randomly shifted, scaled, sheared and noisy copy of one of
# ten hand-drawn templates (the "digits"). We load it as the other chapters do,
# with its 3,200 training signals.
#
# The target task uses the same generator, `mnist1d.data.make_dataset`, but
# ten **new templates**: random smooth curves made by
# `helpers.transfer.new_templates`. The signals look alike, the classes are
# different, and we pretend that labelling them is expensive: a pool of 40
# signals per class from which we draw $k$ labelled ones, 20 per class for
# validation, and 100 per class for the test.

# %% tags=["nbval-check-output"]
source = load("mnist1d", seed=SEED)
target = target_task(seed=SEED)
print(source.summary())
print(target.summary())

# %% mystnb={"image": {"alt": "Left: the ten MNIST-1D digit templates, smooth curves of 12 points. Right: the ten new templates of the target task, random smooth curves of the same kind."}}
fig, (ax_old, ax_new) = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, templates, title in ((ax_old, get_templates(), "source: MNIST-1D digits"),
                             (ax_new, new_templates(), "target: new templates")):
    for label, curve in zip(templates["y"], templates["x"]):
        ax.plot(templates["t"], curve + 0.5 * label, color=f"C{label}")
        ax.text(templates["t"][-1] + 0.05, 0.5 * label, str(label), fontsize=7, va="center")
    ax.set_title(title)
    ax.set_xlabel("position")
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# Each template is drawn shifted up by half its label. The new templates
# are made of the same kind of strokes, so features that detect bumps, slopes
# and their order in the source signals should help on the target signals
# too; that is the bet transfer learning makes.
#
# ## 2. Pretraining, with checkpoints: surviving a lost session
#
# The backbone of `TransferNet` is three 1-D convolutions and a pooling to 4
# positions, giving 96 features; its head is one linear layer. We train it
# on the source task with `fit`, passing `checkpoint=`: at the end of every
# epoch `fit` writes the *whole* training state (weights, optimizer state,
# history, best weights so far, random-number-generator states) to that file,
# atomically (to a temporary file first, then renamed), so a crash never
# leaves half a file.
#
# On Colab a session can end at any moment (an idle timeout, a lost
# connection), and everything in memory is gone. We simulate that with a
# callback that raises an error in the middle of training, as a lost runtime
# would, then start again from a fresh model in a "new session" with
# `resume=True`.

# %%
CHANNELS = 24
PRETRAIN_EPOCHS = max(6, round(12 * BUDGET))
PRETRAIN_CHECKPOINT = os.path.join(WORKDIR.name, "pretraining.pt")


class Disconnect(Callback):
    """Raise ConnectionError at the end of epoch ``after``, before its checkpoint is written."""

    def __init__(self, after):
        self.after = after

    def on_epoch_end(self, history, model):
        if history.epoch[-1] == self.after:
            raise ConnectionError(f"runtime disconnected during epoch {self.after}")
        return False


def pretraining_session(resume, callbacks=()):
    """A fresh model and optimizer, as after a restart; fit resumes from the checkpoint if asked."""
    torch.manual_seed(SEED)
    model = TransferNet(10, CHANNELS)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = fit(model, source.tensors("train"), source.tensors("val"), loss_fn=nn.CrossEntropyLoss(),
                  optimizer=optimizer, epochs=PRETRAIN_EPOCHS, batch_size=64, device=DEVICE,
                  checkpoint=PRETRAIN_CHECKPOINT, resume=resume, callbacks=callbacks)
    return model.cpu(), history


try:
    pretraining_session(resume=False, callbacks=[Disconnect(after=5)])
except ConnectionError as error:
    print("session 1:", error)
saved = load_checkpoint(PRETRAIN_CHECKPOINT)
print(f"the checkpoint holds epoch {saved['epoch']}: {', '.join(sorted(saved))}")
pretrained, pretrain_history = pretraining_session(resume=True)
print(f"session 2: resumed at epoch {saved['epoch'] + 1}, trained to epoch {len(pretrain_history)}")

# %%
source_test_acc = evaluate(pretrained, *source.tensors("test"), nn.CrossEntropyLoss())["accuracy"]
BACKBONE_FILE = os.path.join(WORKDIR.name, "backbone.pt")
save_weights(pretrained.backbone, BACKBONE_FILE)  # the one file every transfer method below starts from
glue("pretrain_epochs", PRETRAIN_EPOCHS)
glue("disconnect_epoch", 5)
glue("source_test_acc", source_test_acc, fmt=".1%")
print(f"session 1 lost in epoch 5; pretrained for {len(pretrain_history)} epochs "
      f"(history entries: {len(pretrain_history.train_loss)}); source test accuracy {source_test_acc:.1%}")
assert saved["epoch"] == 4 and len(pretrain_history) == PRETRAIN_EPOCHS
assert source_test_acc > 0.6, "the backbone has learnt the source task"

# %% [markdown]
# Session 1 died in epoch {glue:text}`disconnect_epoch`, so the file holds
# epoch 4; session 2 rebuilt the model and optimizer, loaded everything from
# the file and went on from epoch 5 to {glue:text}`pretrain_epochs`. The
# pretrained network reaches {glue:text}`source_test_acc` on the source test
# signals (a CNN trained longer reaches about 94 % {cite}`greydanus2020mnist1d`;
# we only need useful features). The backbone's weights go to one file with
# `save_weights`, and every method below loads them with `load_weights`.
#
# Does the resumed run end exactly where an uninterrupted one would? A small
# run answers: the same training, once straight through and once interrupted
# after 3 epochs and resumed.

# %%
def small_run(path, callbacks=(), resume=False):
    torch.manual_seed(SEED)
    model = TransferNet(10, CHANNELS)
    history = fit(model, target.tensors("train"), target.tensors("val"), loss_fn=nn.CrossEntropyLoss(), lr=3e-3,
                  epochs=8, batch_size=32, device="cpu", checkpoint=path, resume=resume, callbacks=callbacks)
    return model, history


straight_model, straight_history = small_run(os.path.join(WORKDIR.name, "straight.pt"))
interrupted_path = os.path.join(WORKDIR.name, "interrupted.pt")
try:
    small_run(interrupted_path, callbacks=[Disconnect(after=4)])
except ConnectionError:
    pass
resumed_model, resumed_history = small_run(interrupted_path, resume=True)
same_history = straight_history.val_loss == resumed_history.val_loss and \
    straight_history.train_loss == resumed_history.train_loss
same_weights = all(torch.equal(a, b) for a, b in zip(straight_model.state_dict().values(),
                                                     resumed_model.state_dict().values()))
print(f"same history: {same_history}; same weights: {same_weights}")
assert same_history and same_weights

# %% tags=["nbval-check-output"]
print(f"same history: {same_history}; same weights: {same_weights}")

# %% [markdown]
# Same losses at every epoch, same weights to the last bit: on a CPU the
# resumed run *is* the uninterrupted run, because the checkpoint also holds
# the optimizer's moment estimates and the random-number generators that
# shuffle the batches. (On a GPU some kernels are not bit-for-bit
# reproducible, so expect agreement to a few decimals.) The course's setup
# page tells the Colab side of the story: save to Google Drive, and a lost
# session costs one epoch instead of the whole run.
#
# ## 3. Models are narrow
#
# Before adapting anything: what does the pretrained network, head included,
# make of the target signals? Its ten outputs mean "digit 0" to "digit 9" of
# the *source*; the target's classes are other shapes that happen to carry
# the labels 0 to 9.

# %%
target_predictions = predict(pretrained, target.tensors("test")[0]).argmax(1).numpy()
narrow_acc = accuracy(target_predictions, target.test.y)
top_share = np.bincount(target_predictions, minlength=10).max() / len(target_predictions)
glue("narrow_target_acc", narrow_acc, fmt=".1%")
glue("narrow_top_share", top_share, fmt=".0%")
print(f"pretrained network on the target test set: accuracy {narrow_acc:.1%} (chance: 10.0%); "
      f"{top_share:.0%} of the signals get its most frequent answer")
assert narrow_acc < 0.2, "without adaptation, no better than chance"

# %% [markdown]
# {glue:text}`narrow_target_acc` right, where guessing gives 10 %, with one
# source digit given as the answer for {glue:text}`narrow_top_share` of the
# signals: a network
# that is right on {glue:text}`source_test_acc` of *its* task knows nothing
# about a task it was not trained for, even one made of the same kind of
# signals. This is the plainest answer to the belief that trained models have
# a general intelligence: a network computes what its training rewarded. What
# it *learnt along the way*, its features, may still be useful; that is what
# the rest of the chapter measures.
#
# ## 4. Four ways to reuse a backbone
#
# All four start from the same file and differ in what they train:
#
# - **scratch**: no transfer; the same network from random weights, trained
#   on the $k$ labels per class (the baseline that transfer must beat);
# - **linear probe**: freeze the backbone, compute its features once, and fit
#   a logistic regression on them (the cheapest, and it cannot forget);
# - **fine-tune**: load the backbone, put a new head on it, and train
#   everything at one learning rate;
# - **fine-tune with a smaller backbone learning rate**: the head starts from
#   random weights and must move far; the backbone is already good and should
#   move little. PyTorch optimizers take *parameter groups*, each with its
#   own learning rate {cite}`howard2018universal`; here the backbone gets a
#   tenth of the head's.
#
# Parameter groups are a list of dicts, one per group:

# %% tags=["nbval-check-output"]
model = TransferNet(10, CHANNELS)
missing, unexpected = load_weights(model.backbone, BACKBONE_FILE)  # the head keeps its new random weights
groups = param_groups(model, head_lr=3e-2, backbone_lr=3e-3)
optimizer = torch.optim.AdamW(groups)
for name, group in zip(("head", "backbone"), optimizer.param_groups):
    print(f"{name:9s} lr {group['lr']:.0e}, {sum(p.numel() for p in group['params']):5d} weights")
print(f"missing after loading: {missing}, unexpected: {unexpected}")

# %% [markdown]
# `helpers.transfer.fine_tune` trains such a model with `fit`; a backbone
# learning rate of 0 leaves the backbone out of the optimizer and freezes it.
# The linear probe needs no training loop: `features(backbone, X)` gives a
# `(n, 96)` array, and scikit-learn's `LogisticRegression`
# {cite}`pedregosa2011scikit` does the rest. Two more rows complete the table:
# a logistic regression on the raw signals (a simple model that needs no
# backbone) and a dummy classifier that always answers the most frequent
# training label.
#
# ## 5. The comparison: accuracy against labels per class
#
# For each number of labels per class $k$ and each method, every value on the
# method's own grid is trained on {glue:text}`n_seeds` draws of the labelled
# examples (each seed draws other examples and other initial weights; the
# backbone is the same). The value with the best mean **validation**
# accuracy is chosen; if it lies at an end of the grid, `tune` widens the grid
# in that direction. Every network trains for the same number of steps.
# Only then are the chosen configurations scored on the test set.

# %%
KS = (2, 5, 20)
N_SEEDS = max(3, round(3 * BUDGET))
SEEDS = [100 * SEED + i for i in range(N_SEEDS)]
PROBE_GRID = [1e-2, 1e-1, 1, 10]  # C, the inverse penalty of the logistic regressions (cheap: 4 values)
GRIDS = {  # starting grids of learning rates, per method and k; tune widens a grid whose best value is at an end
    "logistic regression on the inputs": {k: PROBE_GRID for k in KS},
    "linear probe": {k: PROBE_GRID for k in KS},
    "scratch": {2: [3e-4, 1e-3, 3e-3], 5: [1e-3, 3e-3, 1e-2], 20: [1e-2, 3e-2, 1e-1]},
    "fine-tune": {2: [1e-3, 3e-3, 1e-2], 5: [3e-3, 1e-2, 3e-2], 20: [1e-3, 3e-3, 1e-2]},
    "fine-tune, backbone lr / 10": {2: [3e-3, 1e-2, 3e-2], 5: [1e-2, 3e-2, 1e-1], 20: [1e-2, 3e-2, 1e-1]},
}
experiment = FewLabelSetup(target, BACKBONE_FILE, make_model=lambda: TransferNet(10, CHANNELS), steps=60)
chosen, all_runs = {}, []
for k in KS:
    for method in METHODS:
        chosen[method, k], runs = tune(experiment, method, k, SEEDS, GRIDS[method][k])
        all_runs += runs
runs_frame = pd.DataFrame([{"method": r.method, "k": r.k, "seed": r.seed, "value": r.value,
                            "val accuracy": r.val_accuracy} for r in all_runs])
grid_report = (runs_frame.groupby(["method", "k", "value"])["val accuracy"].mean().unstack("k")
               .reindex(METHODS, level="method"))
grid_report.round(3)

# %% [markdown]
# The table above is the validation accuracy (mean over seeds) of every value
# tried: learning rates for the networks, the inverse penalty `C` for the
# logistic regressions. The test set comes in only now, for the chosen value
# of each method and each $k$:

# %%
def test_accuracies(method, k):
    best = [r for r in all_runs if r.method == method and r.k == k and r.value == chosen[method, k]]
    return [accuracy(r.predict("test"), target.test.y) for r in best]


def dummy_accuracies(k):
    scores = []
    for seed in SEEDS:
        idx = labels_per_class(target.train.y, k, seed)  # the same labelled examples the methods saw
        dummy = DummyClassifier(strategy="most_frequent").fit(target.train.X[idx], target.train.y[idx])
        scores.append(dummy.score(target.test.X, target.test.y))
    return scores


test_scores = {("dummy (most frequent)", k): dummy_accuracies(k) for k in KS}
test_scores.update({(method, k): test_accuracies(method, k) for method in METHODS for k in KS})
row_order = ["dummy (most frequent)", *METHODS]
mean = pd.DataFrame({k: {m: np.mean(test_scores[m, k]) for m in row_order} for k in KS}).loc[row_order]
sd = pd.DataFrame({k: {m: np.std(test_scores[m, k], ddof=1) for m in row_order} for k in KS}).loc[row_order]
centrepiece = mean.map(lambda v: f"{v:.3f}") + " ± " + sd.map(lambda v: f"{v:.3f}")
centrepiece.columns = [f"k = {k} labels per class" for k in KS]
centrepiece.index.name = f"test accuracy, mean ± sd over {N_SEEDS} seeds"
centrepiece

# %%
chosen_frame = pd.DataFrame({f"k = {k}": {m: f"{HYPERPARAMETER[m]} = {chosen[m, k]:.0e}" for m in METHODS}
                             for k in KS})
tried = runs_frame.groupby(["method", "k"])["value"].agg(["min", "max"])
on_edge = [(m, k) for m in METHODS for k in KS if chosen[m, k] in (tried.loc[(m, k), "min"], tried.loc[(m, k), "max"])]
print(chosen_frame.to_string())
print("choices on the edge of their grid:", on_edge or "none")
short = {"logistic regression on the inputs": "inputs", "scratch": "scratch", "linear probe": "probe",
         "fine-tune": "ft", "fine-tune, backbone lr / 10": "ftsmall", "dummy (most frequent)": "dummy"}
for method, key in short.items():
    for k in KS:
        glue(f"acc_{key}_k{k}", float(mean.loc[method, k]), fmt=".1%")
        glue(f"sd_{key}_k{k}", float(sd.loc[method, k]), fmt=".1%")
glue("n_seeds", N_SEEDS)
glue("n_training_runs", len(all_runs))
best_transfer = {k: max(["linear probe", "fine-tune", "fine-tune, backbone lr / 10"], key=lambda m: mean.loc[m, k])
                 for k in KS}
for k in KS:
    glue(f"best_transfer_k{k}", best_transfer[k])
    glue(f"transfer_gain_k{k}", float(mean.loc[best_transfer[k], k] - mean.loc["scratch", k]), fmt=".1%")
print("test accuracy as quoted in the text (mean ± sd):")
print((mean.map(lambda v: f"{v:.1%}") + " ± " + sd.map(lambda v: f"{v:.1%}")).to_string())
print("best transfer method per k:", best_transfer)
print("gain over scratch:", {k: f"{float(mean.loc[best_transfer[k], k] - mean.loc['scratch', k]):.1%}" for k in KS})
print("training runs and probes behind the table:", len(all_runs))
assert not on_edge, "every choice lies inside its grid"
spread = float(sd.loc[list(METHODS)].to_numpy().max())  # the largest seed spread of any cell sets the margins
for k in KS:
    assert mean.loc["linear probe", k] > mean.loc["scratch", k] + max(0.08, spread), "frozen features beat scratch"
    assert mean.loc["linear probe", k] > mean.loc["logistic regression on the inputs", k] + 0.1
    assert (mean.loc[list(METHODS), k] > mean.loc["dummy (most frequent)", k] + 0.05).all()
assert mean.loc["fine-tune", 2] < mean.loc["linear probe", 2] + spread, "at k = 2, fine-tuning is no better"
for k in KS:
    best_mean = mean.loc[["linear probe", "fine-tune", "fine-tune, backbone lr / 10"], k].max()
    assert mean.loc["fine-tune, backbone lr / 10", k] >= best_mean - spread, "a smaller backbone rate is (near) best"
    assert best_mean > mean.loc["scratch", k] + 0.1

# %% mystnb={"image": {"alt": "Test accuracy against labels per class (2, 5, 20, log scale) for five methods with error bars; the three transfer methods lie far above training from scratch and logistic regression on the raw signals at every k; all rise with k."}}
fig, ax = plt.subplots(figsize=(6, 3.6))
for i, method in enumerate(row_order):
    ax.errorbar(np.array(KS) * (1 + 0.03 * (i - 2.5)), mean.loc[method], yerr=sd.loc[method], marker="o",
                capsize=3, label=method, linestyle=":" if method.startswith("dummy") else "-")
ax.set_xscale("log")
ax.set_xticks(KS, [str(k) for k in KS])
ax.set_xlabel("labels per class (k)")
ax.set_ylabel("test accuracy")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# The table is the chapter's answer. With {glue:text}`n_training_runs` runs
# and probes behind it, all chosen on validation data:
#
# - **Transfer pays at every $k$.** With 2 labels per class, a network
#   trained from scratch reaches {glue:text}`acc_scratch_k2`
#   (± {glue:text}`sd_scratch_k2`), the linear probe {glue:text}`acc_probe_k2`
#   (± {glue:text}`sd_probe_k2`). With 20 labels per class scratch reaches
#   {glue:text}`acc_scratch_k20`, the probe {glue:text}`acc_probe_k20`, and the
#   best transfer method here ({glue:text}`best_transfer_k20`) is
#   {glue:text}`transfer_gain_k20` above scratch.
# - **With the fewest labels, do not move every weight at one rate.** At
#   $k = 2$, fine-tuning the whole network at one learning rate
#   ({glue:text}`acc_ft_k2`) does no better than the probe, which trains no
#   backbone weight at all. Giving the new head a learning rate ten times the
#   backbone's is the best of the three, or within the seed spread of the best,
#   at every $k$: {glue:text}`acc_ftsmall_k2`, {glue:text}`acc_ftsmall_k5` and
#   {glue:text}`acc_ftsmall_k20` (plain fine-tuning: {glue:text}`acc_ft_k2`,
#   {glue:text}`acc_ft_k5`, {glue:text}`acc_ft_k20`).
# - **The features are what transfers.** A logistic regression on the raw
#   signals ({glue:text}`acc_inputs_k20` at $k = 20$) does far worse than the
#   same logistic regression on the backbone's features
#   ({glue:text}`acc_probe_k20`).
#
# Which of the three transfer methods comes first at a given $k$ can change
# with the seed when their means are closer than their spread; the chapter
# asserts only the differences larger than it. These trade-offs match what is
# reported for large models: linear probes are strong with few labels,
# fine-tuning gains as labels grow, and fine-tuning at a too-large rate can
# distort good features {cite}`kumar2022finetuning,kornblith2019better`.
#
# Every network above had the same budget of {glue:text}`n_steps` steps. Is
# scratch only undertrained? Four times as many steps, at its chosen learning
# rate, answers on validation data (the test set stays out of it):

# %%
long_experiment = FewLabelSetup(target, BACKBONE_FILE, make_model=lambda: TransferNet(10, CHANNELS),
                                steps=4 * experiment.steps)
long_scratch = np.mean([run_method(long_experiment, "scratch", 20, s, chosen["scratch", 20]).val_accuracy
                        for s in SEEDS])
short_scratch = runs_frame.loc[(runs_frame["method"] == "scratch") & (runs_frame["k"] == 20)
                               & (runs_frame["value"] == chosen["scratch", 20]), "val accuracy"].mean()
probe_val_k20 = runs_frame.loc[(runs_frame["method"] == "linear probe") & (runs_frame["k"] == 20)
                               & (runs_frame["value"] == chosen["linear probe", 20]), "val accuracy"].mean()
glue("n_steps", experiment.steps)
glue("long_scratch_val", float(long_scratch), fmt=".1%")
glue("short_scratch_val", float(short_scratch), fmt=".1%")
glue("probe_val_k20", float(probe_val_k20), fmt=".1%")
print(f"k = 20, validation accuracy: scratch {short_scratch:.3f} ({experiment.steps} steps), "
      f"{long_scratch:.3f} ({long_experiment.steps} steps); linear probe {probe_val_k20:.3f}")
assert long_scratch < probe_val_k20 - 0.05, "longer training does not close the gap"

# %% [markdown]
# Four times the steps take scratch at $k = 20$ from
# {glue:text}`short_scratch_val` to {glue:text}`long_scratch_val` on
# validation, still far below the probe ({glue:text}`probe_val_k20`): the gap
# comes from the features, not from a short budget.
#
# ## 6. How far did fine-tuning move the features?
#
# To compare two representations of the same inputs, for instance the
# backbone's features before and after fine-tuning, a standard measure is
# **linear centred kernel alignment** {cite}`kornblith2019similarity`. For
# feature matrices $X$ ($n \times d_1$) and $Y$ ($n \times d_2$) of the same
# $n$ inputs, each column centred to mean 0,
#
# $$
# \mathrm{CKA}(X, Y) = \frac{\lVert Y^\top X \rVert_F^2}{\lVert X^\top X \rVert_F \, \lVert Y^\top Y \rVert_F},
# $$
#
# which is 1 when $Y$ is a rotation and rescaling of $X$ and near 0 when the
# two are unrelated. `helpers.transfer.linear_cka` computes it (Exercise 4
# asks you to write it). We compare the pretrained features of the
# validation signals with those of the fine-tuned networks at $k = 20$, and
# with a run whose learning rate is ten times the largest on the fine-tune grid.

# %%
pretrained_val_features = experiment.frozen_features("val")


def cka_after(run):
    return linear_cka(pretrained_val_features, features(run.model.backbone, target.val.X))


first = {m: next(r for r in all_runs if r.method == m and r.k == 20 and r.value == chosen[m, 20])
         for m in ("fine-tune", "fine-tune, backbone lr / 10")}
too_high = run_method(experiment, "fine-tune", 20, SEEDS[0], 0.1)
cka_table = pd.DataFrame(
    {"CKA with the pretrained features": [cka_after(first["fine-tune, backbone lr / 10"]), cka_after(first["fine-tune"]),
                                          cka_after(too_high)],
     "validation accuracy": [first["fine-tune, backbone lr / 10"].val_accuracy, first["fine-tune"].val_accuracy,
                             too_high.val_accuracy]},
    index=pd.Index([f"fine-tune, backbone lr {chosen['fine-tune, backbone lr / 10', 20] / 10:.0e}",
                    f"fine-tune, lr {chosen['fine-tune', 20]:.0e}", "fine-tune, lr 1e-01"], name="k = 20, first seed"),
)
print(cka_table.round(3).to_string())
glue("cka_small", cka_table.iloc[0, 0], fmt=".2f")
glue("cka_ft", cka_table.iloc[1, 0], fmt=".2f")
glue("cka_high", cka_table.iloc[2, 0], fmt=".2f")
glue("acc_high_lr", too_high.val_accuracy, fmt=".1%")
assert min(cka_table.iloc[0, 0], cka_table.iloc[1, 0]) > cka_table.iloc[2, 0] + 0.1, "a huge rate moves them most"
assert too_high.val_accuracy < first["fine-tune, backbone lr / 10"].val_accuracy - 0.1

# %% [markdown]
# With their tuned learning rates, both fine-tuned backbones keep features
# close to the pretrained ones (CKA {glue:text}`cka_small` with the smaller
# backbone rate, {glue:text}`cka_ft` with one rate for all). At a learning
# rate of 0.1 they are largely replaced (CKA {glue:text}`cka_high`) and the
# validation accuracy falls to {glue:text}`acc_high_lr`: the run has thrown
# away what pretraining bought and relearnt from 200 labels.
#
# ## 7. When transfer does not help
#
# Transfer is a bet that the source task taught features the target needs.
# Here is a bet that loses: scikit-learn's 8x8 handwritten digits, a small MLP
# pretrained on the digits **0 to 4**, reused for the digits **5 to 9** with
# **one** labelled image per class. A network that only ever had to tell 0-4
# apart keeps what separates *those* digits and can discard the rest.

# %%
digits_source, digits_target = split_digits(seed=SEED)
torch.manual_seed(SEED)
digits_net = MLPNet(64, 64, 5)
digits_history = fit(digits_net, digits_source.tensors("train"), digits_source.tensors("val"),
                     loss_fn=nn.CrossEntropyLoss(), lr=1e-3, epochs=max(10, round(20 * BUDGET)), batch_size=32,
                     device=DEVICE)
DIGITS_BACKBONE = os.path.join(WORKDIR.name, "digits_backbone.pt")
save_weights(digits_net.cpu().backbone, DIGITS_BACKBONE)
digits_experiment = FewLabelSetup(digits_target, DIGITS_BACKBONE, make_model=lambda: MLPNet(64, 64, 5), steps=60)
NEG_SEEDS = [100 * SEED + i for i in range(max(5, round(5 * BUDGET)))]
NEG_METHODS = ["logistic regression on the inputs", "scratch", "linear probe", "fine-tune"]
NEG_GRIDS = {"logistic regression on the inputs": PROBE_GRID, "scratch": [1e-3, 3e-3, 1e-2],
             "linear probe": PROBE_GRID, "fine-tune": [3e-3, 1e-2, 3e-2]}
neg_chosen, neg_scores = {}, {}
for method in NEG_METHODS:
    neg_chosen[method], runs = tune(digits_experiment, method, 1, NEG_SEEDS, NEG_GRIDS[method])
    best = sorted((r for r in runs if r.value == neg_chosen[method]), key=lambda r: r.seed)
    neg_scores[method] = np.array([accuracy(r.predict("test"), digits_target.test.y) for r in best])
negative = pd.DataFrame({
    "chosen": [f"{HYPERPARAMETER[m]} = {neg_chosen[m]:.0e}" for m in NEG_METHODS],
    "test accuracy (mean)": [neg_scores[m].mean() for m in NEG_METHODS],
    "sd over seeds": [neg_scores[m].std(ddof=1) for m in NEG_METHODS],
    "minus scratch, same seed (mean)": [(neg_scores[m] - neg_scores["scratch"]).mean() for m in NEG_METHODS],
    "minus scratch, sd": [(neg_scores[m] - neg_scores["scratch"]).std(ddof=1) for m in NEG_METHODS],
}, index=pd.Index(NEG_METHODS, name=f"digits 0-4 -> 5-9, 1 label per class, {len(NEG_SEEDS)} seeds"))
print(f"source (digits 0-4) validation accuracy of the pretrained MLP: {max(digits_history.val_metric):.1%}")
negative.round(3)

# %%
ft_minus_scratch = neg_scores["fine-tune"] - neg_scores["scratch"]
probe_minus_inputs = neg_scores["linear probe"] - neg_scores["logistic regression on the inputs"]
glue("neg_scratch", neg_scores["scratch"].mean(), fmt=".1%")
glue("neg_ft", neg_scores["fine-tune"].mean(), fmt=".1%")
glue("neg_probe", neg_scores["linear probe"].mean(), fmt=".1%")
glue("neg_inputs", neg_scores["logistic regression on the inputs"].mean(), fmt=".1%")
glue("neg_ft_minus_scratch", ft_minus_scratch.mean(), fmt=".1%")
glue("neg_ft_minus_scratch_sd", ft_minus_scratch.std(ddof=1), fmt=".1%")
glue("neg_n_seeds", len(NEG_SEEDS))
probe_gain_mnist1d = float(mean.loc["linear probe", 2] - mean.loc["logistic regression on the inputs", 2])
glue("probe_vs_inputs_mnist1d", probe_gain_mnist1d, fmt=".1%")
glue("probe_vs_inputs_digits", probe_minus_inputs.mean(), fmt=".1%")
print(f"{len(NEG_SEEDS)} seeds, test accuracy: scratch {neg_scores['scratch'].mean():.1%}, "
      f"fine-tune {neg_scores['fine-tune'].mean():.1%}, linear probe {neg_scores['linear probe'].mean():.1%}, "
      f"logistic regression on the inputs {neg_scores['logistic regression on the inputs'].mean():.1%}")
print(f"fine-tune minus scratch: {ft_minus_scratch.mean():+.3f} ± {ft_minus_scratch.std(ddof=1):.3f}; "
      f"probe minus inputs: digits {probe_minus_inputs.mean():+.3f}, MNIST-1D (k = 2) {probe_gain_mnist1d:+.3f}")
assert ft_minus_scratch.mean() < 0.02, "fine-tuning from digits 0-4 does not beat scratch on 5-9"
assert probe_minus_inputs.mean() < -0.1, "the frozen features are worse than the raw pixels"
assert probe_gain_mnist1d > 0.1, "while on MNIST-1D they are far better than the raw signals"

# %% [markdown]
# From scratch, one image per class gives {glue:text}`neg_scratch` on the test
# digits; fine-tuning the pretrained MLP gives {glue:text}`neg_ft` (the
# difference on the same labelled images, seed by seed, is
# {glue:text}`neg_ft_minus_scratch` ± {glue:text}`neg_ft_minus_scratch_sd`),
# and the frozen features with a logistic regression only
# {glue:text}`neg_probe`. Pretraining did not help, and the frozen features
# hurt: this is **negative transfer** {cite}`rosenstein2005transfer,wang2019characterizing`.
# Features become more specific to their task layer by layer
# {cite}`yosinski2014transferable`, and a five-way source task asks little of them.
#
# **A cheap test before spending compute.** Fit two logistic regressions on
# the few labels you have, one on the raw inputs and one on the frozen
# features, and compare them on validation data. It costs seconds. On
# MNIST-1D the features won by {glue:text}`probe_vs_inputs_mnist1d` at $k = 2$
# and transfer paid off; on the digits they lost by
# {glue:text}`probe_vs_inputs_digits` and it did not. A probe that does not
# beat the raw inputs says that the backbone's features are not the ones this
# task needs; fine-tuning may still rescue them, but should then be compared
# with scratch, as here, before anyone trusts it.
#
# ## 8. A real pretrained model: ResNet-18 from torchvision
#
# For images, nobody pretrains their own backbone: torchvision, timm and the
# Hugging Face hub offer networks trained on ImageNet's 1.2 million images
# {cite}`he2016deep,deng2009imagenet`. The practitioner's code is short: load
# the weights, take the preprocessing that belongs to them, freeze the
# backbone, and replace the last layer (`model.fc`) by one for your classes.
# `helpers.transfer.resnet18_for` is exactly that:
#
# ```python
# weights = ResNet18_Weights.DEFAULT          # ImageNet weights, downloaded once (about 45 MB)
# model = resnet18(weights=weights)
# for p in model.parameters():
#     p.requires_grad_(False)                 # freeze the backbone
# model.fc = nn.Linear(model.fc.in_features, n_classes)  # the new head trains
# transform = weights.transforms()            # resize, crop to 224, ImageNet mean and std
# ```
#
# Offline (the default here), the same function builds the network with
# random weights (`weights=None`), so the code runs and is tested without a
# download; set `DOWNLOAD_PRETRAINED = True` in the parameters cell (on Colab,
# say) to use the real weights. The inputs are two photographs that ship with
# scikit-learn.

# %%
from sklearn.datasets import load_sample_images

photos = torch.as_tensor(np.stack(load_sample_images().images)).permute(0, 3, 1, 2)  # (2, 3, 427, 640) uint8
resnet, resnet_transform = resnet18_for(n_classes=2, weights="DEFAULT" if DOWNLOAD_PRETRAINED else None)
batch = resnet_transform(photos)
trainable = [name for name, p in resnet.named_parameters() if p.requires_grad]
resnet.eval()
with torch.no_grad():
    logits = resnet(batch)
print(f"photos {tuple(photos.shape)} {photos.dtype} -> transformed {tuple(batch.shape)} -> logits {tuple(logits.shape)}")
print(f"trainable: {trainable}; frozen: {sum(not p.requires_grad for p in resnet.parameters())} tensors")
assert trainable == ["fc.weight", "fc.bias"] and logits.shape == (2, 2)

# %% [markdown]
# The transform turned two photos of different sizes into a batch of
# 224 x 224 images normalised as ImageNet was; only the two tensors of the
# new `fc` layer will train. With the real weights, the next cell also shows
# what the unchanged ImageNet network sees in the photos (on Colab, or
# anywhere with `DOWNLOAD_PRETRAINED = True`).

# %%
if DOWNLOAD_PRETRAINED:
    from torchvision.models import ResNet18_Weights, resnet18

    imagenet = resnet18(weights=ResNet18_Weights.DEFAULT).eval()
    categories = ResNet18_Weights.DEFAULT.meta["categories"]
    with torch.no_grad():
        top = imagenet(batch).softmax(1).topk(3)
    for i, (probs, labels) in enumerate(zip(top.values, top.indices)):
        print(f"photo {i}: " + ", ".join(f"{categories[j]} {p:.0%}" for p, j in zip(probs, labels)))
else:
    print("DOWNLOAD_PRETRAINED is False: the ImageNet predictions are skipped (nothing was downloaded)")

# %% [markdown]
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/10_transfer_learning.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: is it the pretraining or the architecture?
# :label: ch10-ex1
# The linear probe at $k = 20$ reached {glue:text}`acc_probe_k20`, scratch
# {glue:text}`acc_scratch_k20`. Now take the *same* network with random,
# untrained weights, freeze it, and fit the same tuned logistic regression on
# its features. Is its accuracy closer to `"scratch"` or to the
# `"pretrained probe"`? Set `prediction_random` to one of the two, *then*
# run the check and the experiment after it.
# ```
#
# ```{solution-start} ch10-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch10-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
prediction_random = "scratch"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch10-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
torch.manual_seed(SEED)
RANDOM_BACKBONE = os.path.join(WORKDIR.name, "random_backbone.pt")
save_weights(TransferNet(10, CHANNELS).backbone, RANDOM_BACKBONE)  # never trained
random_experiment = FewLabelSetup(target, RANDOM_BACKBONE, make_model=lambda: TransferNet(10, CHANNELS), steps=60)
random_C, random_runs = tune(random_experiment, "linear probe", 20, SEEDS, PROBE_GRID)
random_probe = np.mean([accuracy(r.predict("test"), target.test.y) for r in random_runs if r.value == random_C])
print(f"k = 20, test accuracy: probe on random features {random_probe:.3f} (C = {random_C:.0e}); "
      f"scratch {mean.loc['scratch', 20]:.3f}; probe on pretrained features {mean.loc['linear probe', 20]:.3f}")
assert abs(random_probe - mean.loc["scratch", 20]) < abs(random_probe - mean.loc["linear probe", 20])
assert random_probe < mean.loc["linear probe", 20] - 0.15, "the pretraining, not the architecture, makes the features"

# %% [markdown]
# ```{exercise} Diagnose: a fine-tune that does worse than a probe
# :label: ch10-ex2
# A colleague fine-tunes the pretrained backbone on 5 labels per class and
# reports the run below. Its validation accuracy is below the linear probe's
# at the same $k$. Which single cause explains what the run shows? Set
# `diagnosis` to one letter:
#
# - `"A"`: the head was left frozen, so only the backbone learnt;
# - `"B"`: the backbone's learning rate is far too high, so its pretrained features are overwritten;
# - `"C"`: 5 labels per class are too few for any method to do better;
# - `"D"`: the test set was used to choose the configuration.
# ```

# %%
torch.manual_seed(SEED)
colleague = experiment.pretrained_model()
head_before = colleague.head.weight.detach().clone()
colleague_idx = labels_per_class(target.train.y, 5, SEEDS[0])
fine_tune(colleague, (target.train.X[colleague_idx], target.train.y[colleague_idx]), None,
          head_lr=0.1, backbone_lr=0.1, epochs=40, batch_size=32, device="cpu")
colleague_val = evaluate(colleague, *target.tensors("val"), nn.CrossEntropyLoss())["accuracy"]
colleague_train = evaluate(colleague, target.train.X[colleague_idx], target.train.y[colleague_idx],
                           nn.CrossEntropyLoss())["accuracy"]
probe_val_k5 = float(np.mean([r.val_accuracy for r in all_runs
                             if r.method == "linear probe" and r.k == 5 and r.value == chosen["linear probe", 5]]))
colleague_cka = linear_cka(pretrained_val_features, features(colleague.backbone, target.val.X))
print(f"colleague: head lr 0.1, backbone lr 0.1, validation accuracy {colleague_val:.1%}, "
      f"training accuracy {colleague_train:.1%}, CKA with the pretrained features {colleague_cka:.2f}, "
      f"head weights changed: {not torch.equal(colleague.head.weight, head_before)}")
print(f"linear probe at k = 5 (tuned): validation accuracy {probe_val_k5:.1%}")

# %% [markdown]
# ```{solution-start} ch10-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch10-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch10-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Experiment: a backbone learning rate that pays
# :label: ch10-ex3
# Fine-tune with the head at a learning rate of 0.03 and choose
# `backbone_lr` so that, on 5 labels per class, fine-tuning beats training
# from scratch by at least 8 points of accuracy. The check pretrains its own
# small backbone, fine-tunes it with your `backbone_lr` on three draws of the
# labels, and compares with scratch at its tuned learning rate. Try a value
# that is too large first, and see what the check says.
# ```
#
# ```{solution-start} ch10-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch10-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
backbone_lr = 1e-3
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch10-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Implement linear CKA
# :label: ch10-ex4
# Write `cka(X, Y)` for two NumPy arrays of shapes $(n, d_1)$ and $(n, d_2)$
# holding two representations of the same $n$ inputs: it returns linear CKA,
# the formula of Section 6, as a float. Do not use `helpers.transfer`.
# Then check the two properties that make it useful: `cka(X, X @ Q * 3)` is
# 1 for an orthogonal `Q`, and two independent random representations score
# near 0 when $n$ is much larger than their dimensions.
# ```
#
# ```{solution-start} ch10-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch10-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def cka(X, Y):
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float) - np.mean(X, axis=0)
    Y = np.asarray(Y, dtype=float) - np.mean(Y, axis=0)
    cross = np.linalg.norm(Y.T @ X) ** 2
    return float(cross / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch10-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %%
WORKDIR.cleanup()  # the checkpoints and weights of this run are deleted; nothing was cached between runs

# %% [markdown]
# ## Summary
#
# - A network is **narrow**: on a task it was not trained for it is at chance
#   ({glue:text}`narrow_target_acc` here), however good it is on its own.
# - Its **features** can still transfer. Load the saved backbone, put a new
#   head on it, and adapt it: a **linear probe** (frozen features + logistic
#   regression) is the cheapest and strongest with the fewest labels;
#   **fine-tuning** with a **smaller learning rate for the backbone**
#   (parameter groups) keeps the features and catches up as labels grow;
#   plain fine-tuning at one rate can overwrite them.
# - Compare fairly: the same labelled examples for every method, each method
#   tuned on validation data with its own grid, several seeds, a dummy
#   baseline, the test set once at the end.
# - Transfer can hurt (**negative transfer**). A logistic regression on the
#   frozen features against one on the raw inputs is a test that costs
#   seconds; **linear CKA** measures how much fine-tuning moved the features.
# - For images, start from a pretrained model such as torchvision's ResNet-18:
#   its weights, its `transforms()`, and a new `model.fc`.
# - **Checkpoint** long runs (`fit(..., checkpoint=path, resume=True)`): the
#   file holds the whole training state, is written atomically, and a
#   resumed run ends exactly where an uninterrupted one would.
#
# For more depth: the survey of {cite}`zhuang2021comprehensive`, and
# {cite}`kumar2022finetuning` on why fine-tuning can distort pretrained features.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
