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
# # Chapter 11: Continual and online learning, and the humans who stay in the loop
#
# Every earlier chapter trained a model once, on one data set, and stopped.
# Deployed models meet a world that keeps changing: new classes turn up,
# inputs drift, the meaning of a label shifts. Two beliefs about trained
# models meet this world here: that a trained model *works perfectly*, and
# that *no human is needed once it is trained*. This chapter measures both.
# First, what happens when a network learns task after task (it forgets, badly,
# unless it replays some old data); then, a model deployed on a stream whose
# labelling rule changes twice, kept, retrained on a schedule, retrained when a
# drift detector fires, or updated with every label; last, the three places
# where a human stays in the loop: watching monitoring signals, choosing what
# to label, and reviewing suspicious labels.
#
# **After this chapter you will be able to**
#
# - tell the task-, domain- and class-incremental scenarios apart, and say why
#   the last is the hardest;
# - measure forgetting with an accuracy matrix, its average accuracy,
#   forgetting and backward transfer;
# - implement and tune naive fine-tuning, EWC, LwF, experience replay and joint
#   training, and compare them fairly over seeds;
# - evaluate a streaming learner prequentially and compare retraining
#   policies on a stream with concept drift (river, scikit-learn's `partial_fit`);
# - set a monitoring alarm on drift-free data and read its false-alarm rate
#   against its detection delay;
# - use active learning and label-error review to spend a human's time well.

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

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from river import drift, linear_model, optim, preprocessing
from sklearn.linear_model import LogisticRegression, SGDClassifier

from helpers import glue, setup
from helpers.continual import (
    Strategy,
    average_accuracy,
    backward_transfer,
    forgetting,
    split_digits,
    summarize,
    train_sequentially,
    tune,
)
from helpers.data import load
from helpers.exercises import ch11_continual_learning as ex
from helpers.online import (
    active_learning_curve,
    alarm_report,
    alarm_threshold,
    drift_stream,
    errors_found,
    inject_label_errors,
    prequential,
    recovery_time,
    review_order,
    rolling_mean,
    run_policy,
    window_signals,
)
from helpers.plots import use_style

DEVICE = setup(SEED)
torch.set_num_threads(1)  # the networks here are tiny: one thread wastes less time on coordination
use_style()
N_SEEDS = max(3, round(3 * BUDGET))
SEEDS = [SEED + k for k in range(N_SEEDS)]
print(f"{N_SEEDS} seeds: {SEEDS}; the continual-learning networks train on the CPU")

# %% [markdown]
# ## 1. Three ways to learn task after task
#
# **Split digits** cuts scikit-learn's 8x8 handwritten digits into five tasks
# of two classes each: 0/1, then 2/3, 4/5, 6/7 and 8/9. A network learns them
# in that order and never sees an old task's training data again. The same
# sequence can be scored in three **scenarios** {cite}`vandeven2022three`:
#
# - **task-incremental**: at test time the model is told which task an image
#   comes from, so it only chooses between that task's two classes;
# - **domain-incremental**: the model answers "first or second class of its
#   task" with two outputs shared by all tasks, without being told the task
#   (the inputs change from task to task, the question does not);
# - **class-incremental**: one output per digit; the model must tell all ten
#   apart, including digits it learnt four tasks ago.
#
# The network is the same in all three: a 64-100-100 MLP with ReLU, trained
# with SGD and momentum for 10 epochs per task.

# %% tags=["nbval-check-output"]
tasks = split_digits(seed=SEED)
pd.DataFrame(
    [{"task": i + 1, "classes": str(t.classes), "train": len(t.y_train), "validation": len(t.y_val),
      "test": len(t.y_test)} for i, t in enumerate(tasks)]
).set_index("task")

# %% [markdown]
# ## 2. Naive fine-tuning forgets
#
# The simplest continual learner keeps training the same network on each new
# task. After each task $i$ we measure the accuracy on every task $j$; these
# numbers form the **accuracy matrix** $R_{ij}$. Three summaries of it
# {cite}`lopezpaz2017gradient,chaudhry2018riemannian`, with $T$ tasks:
#
# $$
# \text{average accuracy} = \frac{1}{T}\sum_{j=1}^{T} R_{Tj}, \qquad
# \text{forgetting} = \frac{1}{T-1}\sum_{j=1}^{T-1} \Big(\max_{i<T} R_{ij} - R_{Tj}\Big), \qquad
# \text{BWT} = \frac{1}{T-1}\sum_{j=1}^{T-1} \big(R_{Tj} - R_{jj}\big).
# $$
#
# Backward transfer (BWT) is negative when later tasks destroy earlier ones and
# positive when they help.

# %% tags=["nbval-check-output"]
naive_R = train_sequentially(tasks, "class", Strategy("naive"), seed=SEED)["val"]
print("class-incremental, naive fine-tuning, validation accuracy (rows: after task i; columns: task j)")
print(pd.DataFrame(naive_R, index=[f"after {i + 1}" for i in range(5)],
                   columns=[f"task {j + 1}" for j in range(5)]).round(2))
naive_summary = summarize(naive_R)
print({k: round(v, 3) for k, v in naive_summary.items()})
glue("naive_first_task_before", float(naive_R[0, 0]), fmt=".0%")
glue("naive_first_task_after", float(naive_R[-1, 0]), fmt=".0%")
glue("naive_forgetting", naive_summary["forgetting"], fmt=".0%")
assert naive_R[0, 0] > 0.9 and naive_R[-1, 0] < 0.1, "task 1 is learnt, then forgotten"

# %% [markdown]
# After its first task the network tells 0 from 1 with
# {glue:text}`naive_first_task_before` accuracy; after the fifth it gets
# {glue:text}`naive_first_task_after` of them right. Its average forgetting is
# {glue:text}`naive_forgetting`: each task is learnt (the diagonal) and then
# wiped out by the next, because nothing in the loss asks the network to keep
# answering "0" for zeros once only 2s and 3s are trained on. This is
# **catastrophic forgetting** {cite}`mccloskey1989catastrophic`. In the
# class-incremental scenario the network even stops predicting old classes at
# all: the last task's output units win every comparison.
#
# ## 3. Four remedies, each tuned on validation data
#
# - **EWC** (elastic weight consolidation) {cite}`kirkpatrick2017overcoming`
#   adds a penalty $\frac{\lambda}{2}\sum_i F_i(\theta_i - \theta^*_i)^2$ that
#   ties each weight to its value after the old tasks, in proportion to its
#   importance, the diagonal of the Fisher information $F_i$ (the expected
#   squared gradient of the log-likelihood). The strength $\lambda$ must be
#   large and depends on the scale of $F$, so we search $10^0$ to $10^9$.
#   `helpers.continual` takes the penalty as an implicit (proximal) step, which
#   stays stable however large $\lambda$ is.
# - **LwF** (learning without forgetting) {cite}`li2018learning` keeps a
#   copy of the network from before the new task and adds $\alpha$ times a
#   distillation loss {cite}`hinton2015distilling`: on the new task's
#   images, the new network's outputs for the *old* classes, softened at
#   temperature 2, should match the old copy's.
# - **Experience replay** {cite}`rolnick2019experience` keeps a small memory
#   (here 10 images per class) and mixes a batch from it into every training
#   batch.
# - **Joint training** learns all five tasks at once, with as many steps as
#   the sequence. It breaks the rules (it sees all data together) and serves as
#   the upper bound.
#
# Every strategy gets its own knob tuned on the validation sets of all tasks
# (the average accuracy after the last task), on one seed: the learning rate
# of naive fine-tuning, which EWC and LwF then keep; EWC's $\lambda$; LwF's
# $\alpha$; replay's own learning rate (its gradient averages two batches); and
# joint training's learning rate.

# %%
LR_GRID = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
GRIDS = {"ewc": ("ewc_lambda", [10.0**k for k in range(10)]),
         "lwf": ("lwf_alpha", [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]),
         "replay": ("lr", LR_GRID), "joint": ("lr", LR_GRID + [0.5])}
MIN_LEARNING = 0.95  # a setting must still learn each new task: mean accuracy just after learning it >= 95%


def tune_all(scenario):
    """Tune each strategy's knob on validation data (seed SEED); return the chosen strategies and the sweeps."""
    sweeps = {"naive": tune(tasks, scenario, Strategy("naive"), "lr", LR_GRID, seed=SEED,
                            min_learning_accuracy=MIN_LEARNING)}
    chosen = {"naive": Strategy("naive", lr=sweeps["naive"]["best"])}
    for name, (knob, grid) in GRIDS.items():
        start = Strategy(name, lr=chosen["naive"].lr)
        sweeps[name] = tune(tasks, scenario, start, knob, grid, seed=SEED, min_learning_accuracy=MIN_LEARNING)
        chosen[name] = start.with_(**{knob: sweeps[name]["best"]})
    return chosen, sweeps


chosen, sweeps = {}, {}
for scenario in ("class", "domain"):
    chosen[scenario], sweeps[scenario] = tune_all(scenario)

# %% tags=["nbval-check-output"]
tuning_table = pd.DataFrame(
    [{"scenario": sc, "strategy": name, "knob": s["knob"], "best value": f"{s['best']:g}",
      "validation accuracy": round(s["scores"][s["best_index"]], 3),
      "learning accuracy": round(s["learning"][s["best_index"]], 3),
      "best on the grid's edge": s["on_edge"]}
     for sc in sweeps for name, s in sweeps[sc].items()]
).set_index(["scenario", "strategy"])
tuning_table

# %% mystnb={"image": {"alt": "Validation average accuracy against EWC strength lambda from 1 to 1e9 on a log axis. The domain-incremental curve rises from about 0.87 to a peak around lambda 1e4 and falls for larger lambda; the class-incremental curve stays flat near 0.2 over the whole range."}}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for sc, color in (("domain", "tab:blue"), ("class", "tab:red")):
    s = sweeps[sc]["ewc"]
    ax.semilogx(s["grid"], s["scores"], marker="o", color=color, label=f"{sc}-incremental")
ax.set_xlabel(r"EWC strength $\lambda$")
ax.set_ylabel("validation average accuracy")
ax.set_ylim(0, 1)
ax.legend()
fig.tight_layout()
plt.show()

# %%
ewc_class_scores = np.array(sweeps["class"]["ewc"]["scores"])
lwf_class = sweeps["class"]["lwf"]
lwf_class_eligible = np.array(lwf_class["scores"])[np.array(lwf_class["eligible"])]
glue("lwf_class_eligible_max", float(lwf_class_eligible.max()), fmt=".2f")
glue("min_learning", MIN_LEARNING, fmt=".0%")
glue("ewc_class_range_low", float(ewc_class_scores.min()), fmt=".2f")
glue("ewc_class_range_high", float(ewc_class_scores.max()), fmt=".2f")
glue("ewc_domain_best_lambda", float(sweeps["domain"]["ewc"]["best"]), fmt=".0e")
print(f"EWC, class-incremental: validation accuracy between {ewc_class_scores.min():.2f} and "
      f"{ewc_class_scores.max():.2f} over lambda = 1 .. 1e9; domain-incremental best at "
      f"lambda = {sweeps['domain']['ewc']['best']:.0e}; LwF, class-incremental, best among the settings "
      f"that learn each task: {lwf_class_eligible.max():.2f}")
assert not any(s["on_edge"] for s in sweeps["domain"].values()), "domain: every best value inside its grid"

# %% [markdown]
# One rule guards the tuning: a setting must still *learn* each new task (its
# "learning accuracy", the mean of the matrix's diagonal, at least
# {glue:text}`min_learning`). Without it, a tiny learning rate or a huge
# penalty "wins" by barely training on new tasks, so that there is less to
# forget. In the domain-incremental scenario every knob has its best value
# inside its grid; EWC's peaks at $\lambda =$ {glue:text}`ewc_domain_best_lambda`,
# and larger strengths freeze the network so hard that new tasks are learnt
# badly. In the class-incremental scenario EWC has **no good value**: over nine
# orders of magnitude its validation accuracy stays between
# {glue:text}`ewc_class_range_low` and {glue:text}`ewc_class_range_high`, so
# whichever value "wins" wins by noise. LwF is no better: every weight that
# still learns the new tasks ends at {glue:text}`lwf_class_eligible_max` or
# below. (The table calls a best value "on the grid's edge" only when it beats
# every value inside the grid by more than a point; on a flat curve the edge
# can win a tie, which says nothing about values outside the grid.)
# That is the published finding too: penalties on weights or outputs do not
# make a network compare classes it never saw side by side
# {cite}`vandeven2022three`.
#
# ## 4. Over seeds, on the test sets, beside the published numbers
#
# Each chosen strategy now runs with three training seeds and is scored once
# on the test sets. The task-incremental rows reuse the class-incremental
# settings without tuning: they check the published claim that this scenario
# is easy. The published column is Split MNIST (28x28 digits, 60 000
# training images, 2000 iterations per task) read approximately from van de
# Ven, Tuytelaars and Tolias {cite}`vandeven2022three`; our data set is 40
# times smaller, so the comparison is of the pattern, not the decimals (we
# quote no published numbers for the domain-incremental scenario).

# %%
chosen["task"] = chosen["class"]
final = {}
for scenario in ("class", "domain", "task"):
    for name, strategy in chosen[scenario].items():
        final[scenario, name] = [train_sequentially(tasks, scenario, strategy, seed=s, evaluate_on=("test",))["test"]
                                 for s in SEEDS]
PUBLISHED = {("class", "naive"): "~20%", ("class", "ewc"): "~20%", ("class", "lwf"): "~22%",
             ("class", "replay"): "~90%", ("class", "joint"): "~98%", ("task", "naive"): "~84%",
             ("task", "ewc"): "> 95%", ("task", "lwf"): "> 95%", ("task", "replay"): "> 95%", ("task", "joint"): "> 95%"}


def mean_sd(values, pct=True):
    values = np.asarray(values, dtype=float)
    if np.isnan(values).all():
        return "n/a"
    return f"{values.mean():.1%} ± {values.std(ddof=1):.1%}" if pct else f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"


def cell_values(scenario, name, measure):
    return [summarize(R)[measure] for R in final[scenario, name]]


# %% tags=["nbval-check-output"]
results = pd.DataFrame(
    [{"scenario": sc, "strategy": name,
      "test average accuracy": mean_sd(cell_values(sc, name, "average accuracy")),
      "forgetting": mean_sd(cell_values(sc, name, "forgetting")),
      "backward transfer": mean_sd(cell_values(sc, name, "backward transfer")),
      "published (Split MNIST)": PUBLISHED.get((sc, name), "")}
     for sc in ("class", "domain", "task") for name in chosen[sc]]
).set_index(["scenario", "strategy"])
results

# %%
acc = {key: np.array([summarize(R)["average accuracy"] for R in runs]) for key, runs in final.items()}
for name in ("naive", "ewc", "lwf", "replay", "joint"):
    glue(f"class_{name}_acc", float(acc["class", name].mean()), fmt=".0%")
    glue(f"domain_{name}_acc", float(acc["domain", name].mean()), fmt=".0%")
task_accs = np.array([acc["task", name].mean() for name in chosen["task"]])
glue("task_min_acc", float(task_accs.min()), fmt=".0%")
glue("task_max_acc", float(task_accs.max()), fmt=".0%")
glue("class_naive_forgetting", float(np.mean(cell_values("class", "naive", "forgetting"))), fmt=".0%")
glue("class_replay_forgetting", float(np.mean(cell_values("class", "replay", "forgetting"))), fmt=".0%")
print(f"class-incremental test average accuracy: naive {acc['class', 'naive'].mean():.0%}, "
      f"replay {acc['class', 'replay'].mean():.0%}, joint {acc['class', 'joint'].mean():.0%}; "
      f"task-incremental: {task_accs.min():.0%} to {task_accs.max():.0%}")
print("domain-incremental test average accuracy: "
      + ", ".join(f"{name} {acc['domain', name].mean():.0%}" for name in ("naive", "ewc", "lwf", "replay", "joint")))
print(f"class-incremental forgetting: naive {np.mean(cell_values('class', 'naive', 'forgetting')):.0%}, "
      f"replay {np.mean(cell_values('class', 'replay', 'forgetting')):.0%}")
# Margins: across seeds the sd of these averages is at most a few points (see the table); gaps asserted are 5x that.
assert acc["class", "naive"].max() < 0.3 and acc["class", "ewc"].max() < 0.35, "class-IL: regularisers forget"
assert acc["class", "replay"].min() > acc["class", "naive"].max() + 0.4, "replay is far better"
assert acc["class", "joint"].min() > acc["class", "replay"].mean(), "joint training is the upper bound"
assert acc["domain", "replay"].mean() > acc["domain", "naive"].mean() + 0.03, "domain-IL: replay helps"
assert task_accs.min() > 0.9, "task-incremental is easy for every strategy"

# %% [markdown]
# The pattern of the published results holds on our small data. In the
# class-incremental scenario, naive fine-tuning ends at
# {glue:text}`class_naive_acc` (only the last task is right: forgetting
# {glue:text}`class_naive_forgetting`), EWC at {glue:text}`class_ewc_acc` and LwF
# at {glue:text}`class_lwf_acc`, while replaying ten images per class reaches
# {glue:text}`class_replay_acc` (forgetting {glue:text}`class_replay_forgetting`)
# and joint training {glue:text}`class_joint_acc`. In the domain-incremental
# scenario the gaps are smaller (naive {glue:text}`domain_naive_acc`, EWC
# {glue:text}`domain_ewc_acc`, LwF {glue:text}`domain_lwf_acc`, replay
# {glue:text}`domain_replay_acc`, joint {glue:text}`domain_joint_acc`), and when
# the task is given, every strategy is between {glue:text}`task_min_acc` and
# {glue:text}`task_max_acc`: knowing the task removes most of the difficulty.
# Guessing would score 10% in the class-incremental scenario and 50% in the
# other two. Differences smaller than the ± spreads in the table are not
# differences.
#
# The accuracy matrices of one seed show *where* each strategy loses: naive,
# EWC and LwF keep only the diagonal; replay keeps most of the lower triangle.

# %% mystnb={"image": {"alt": "Four 5-by-5 heat maps of class-incremental test accuracy, rows after each task, columns each task. Naive, EWC and LwF are bright only on the diagonal and dark below it; replay is bright on the diagonal and mostly bright below it."}}
fig, axes = plt.subplots(1, 4, figsize=(11, 2.9))
for ax, name in zip(axes, ("naive", "ewc", "lwf", "replay")):
    R = final["class", name][0]
    image = ax.imshow(R, vmin=0, vmax=1, cmap="viridis")
    ax.set_title(f"{name}: {average_accuracy(R):.0%}")
    ax.set_xticks(range(5), [f"{j + 1}" for j in range(5)])
    ax.set_yticks(range(5), [f"{i + 1}" for i in range(5)])
    ax.set_xlabel("accuracy on task")
axes[0].set_ylabel("after training task")
fig.colorbar(image, ax=axes, shrink=0.8, label="test accuracy")
plt.show()

# %% [markdown]
# ## 5. How much memory does replay need, and what does it cost?
#
# Replay works, but it keeps real training images. The curve below trains
# the class-incremental sequence with memories from 1 to 50 images per class
# (at replay's tuned learning rate) and counts the bytes the memory holds.

# %%
MEMORY_SIZES = [1, 2, 5, 10, 20, 50]
memory_rows = []
for m in MEMORY_SIZES:
    strategy = chosen["class"]["replay"].with_(memory_per_class=m)
    scores = [average_accuracy(train_sequentially(tasks, "class", strategy, seed=s, evaluate_on=("test",))["test"])
              for s in SEEDS]
    memory_rows.append({"images per class": m, "stored images": 8 * m,  # 8 classes in memory before the last task
                        "storage (KiB)": 8 * m * (64 * 4 + 8) / 1024,  # float32 pixels + an int64 label
                        "mean": float(np.mean(scores)), "sd": float(np.std(scores, ddof=1))})
memory_curve = pd.DataFrame(memory_rows).set_index("images per class")

# %% tags=["nbval-check-output"]
print(memory_curve.round(3))
glue("replay_1_acc", memory_curve.loc[1, "mean"], fmt=".0%")
glue("replay_50_acc", memory_curve.loc[50, "mean"], fmt=".0%")
glue("replay_50_kib", memory_curve.loc[50, "storage (KiB)"], fmt=".0f")
print(f"replay memory of 1 / 50 images per class: {memory_curve.loc[1, 'mean']:.0%} / {memory_curve.loc[50, 'mean']:.0%}; "
      f"50 per class take {memory_curve.loc[50, 'storage (KiB)']:.0f} KiB")
assert memory_curve.loc[1, "mean"] > acc["class", "naive"].mean() + 0.15, "even one image per class helps"
assert memory_curve.loc[50, "mean"] > memory_curve.loc[1, "mean"] + 0.1, "more memory, more accuracy"

# %% mystnb={"image": {"alt": "Class-incremental test average accuracy against replay memory size per class on a log axis, rising steeply from 1 to 10 images per class and levelling off towards the joint-training line; a dashed line marks naive fine-tuning near 0.2."}}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.errorbar(memory_curve.index, memory_curve["mean"], yerr=memory_curve["sd"], marker="o", capsize=3, label="replay")
ax.axhline(acc["class", "naive"].mean(), color="grey", linestyle="--", label="naive fine-tuning")
ax.axhline(acc["class", "joint"].mean(), color="black", linestyle=":", label="joint training")
ax.set_xscale("log")
ax.set_xlabel("replay memory: images per class")
ax.set_ylabel("test average accuracy")
ax.set_ylim(0, 1)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# One stored image per class already lifts the class-incremental accuracy to
# {glue:text}`replay_1_acc`; fifty reach {glue:text}`replay_50_acc` and cost
# {glue:text}`replay_50_kib` KiB here. For 8x8 digits storage is trivial; for
# a real system the memory holds *people's data*, which may have to be
# deleted on request, may not be kept past a retention period, or may not be
# allowed to leave the device that collected it. That is why regularisation
# methods such as EWC, which store only weights, are studied at all, and why
# generative replay and privacy-preserving memories are research topics
# {cite}`vandeven2022three`.
#
# ## 6. Online learning: one example at a time, while the world changes
#
# In a stream the data arrive one example at a time and the model must answer
# before it sees the label. **Prequential** ("predictive sequential")
# evaluation scores each example *before* learning from it, so every score is
# on unseen data {cite}`gama2014survey`. Our stream draws points in the unit
# square; the label says whether the point lies above the diagonal. After a
# third of the stream every label is swapped (an **abrupt drift**); around two
# thirds a new rule (above the anti-diagonal) gradually takes over (a
# **gradual drift**, mixed in with a sigmoid as river's `ConceptDriftStream`
# does); 5% of the labels are noise. Two incremental learners, evaluated
# prequentially: river's online logistic regression {cite}`montiel2021river`
# and scikit-learn's `SGDClassifier.partial_fit` {cite}`pedregosa2011scikit`
# (fed batches of 20, with `classes=` given up front, which it needs).

# %%
STREAM_N = 3000
ABRUPT, GRADUAL = STREAM_N // 3, 2 * STREAM_N // 3
X_stream, y_stream, rule = drift_stream(STREAM_N, seed=SEED)


def online_model():
    return preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.SGD(0.2), intercept_lr=0.2)


river_correct = prequential(online_model(), X_stream, y_stream)
sgd_correct = prequential(SGDClassifier(loss="log_loss", random_state=SEED), X_stream, y_stream,
                          classes=[0, 1], batch_size=20)

# %% tags=["nbval-check-output"]
segments = {"before the drifts": slice(300, ABRUPT), "after the label swap": slice(ABRUPT, GRADUAL),
            "after the gradual drift": slice(GRADUAL + 300, STREAM_N)}
print(pd.DataFrame({"river LogisticRegression": {k: river_correct[s].mean() for k, s in segments.items()},
                    "scikit-learn SGDClassifier": {k: sgd_correct[s].mean() for k, s in segments.items()}}).round(3))

# %% [markdown]
# Both learners keep learning, so both adapt to each new rule after a while.
# Whether that is worth a label for *every* example depends on what labels
# cost. A deployed model is often trained once and left alone, or retrained
# from time to time. We compare five policies, each starting from a logistic
# regression trained on the first 300 labelled examples:
#
# - **train once**: never retrained;
# - **scheduled**: every 500 examples a human labels the last 200 and the
#   model is retrained on them;
# - **triggered**: a human labels a random 20% of the examples (an audit); the
#   audited errors feed a drift detector from `river.drift`, ADWIN
#   {cite}`bifet2007learning` or Page-Hinkley {cite}`page1954continuous`
#   (threshold 10, watching for increases); when it fires, the next 200
#   examples are labelled and the model is retrained on them;
# - **online**: river's logistic regression learns from every label.
#
# Recovery time is the number of examples after a drift until the rolling
# accuracy (over 100 examples) is back within 5 points of its level before
# the drifts; a policy that never recovers gets the rest of the stream.

# %%
POLICY_RUNS = {"train once": dict(policy="train once"), "scheduled": dict(policy="scheduled"),
               "triggered (ADWIN)": dict(policy="triggered", detector="adwin"),
               "triggered (Page-Hinkley)": dict(policy="triggered", detector="ph"), "online": dict(policy="online")}


def make_detector(kind):
    return drift.ADWIN(clock=1) if kind == "adwin" else drift.PageHinkley(threshold=10, mode="up")


policy_rows, curves = [], {name: [] for name in POLICY_RUNS}
for s in SEEDS:
    X_s, y_s, _ = drift_stream(STREAM_N, seed=s)
    for name, spec in POLICY_RUNS.items():
        run = run_policy(spec["policy"], X_s, y_s, audit_rate=0.2, seed=s, base=LogisticRegression(C=100),
                         detector=make_detector(spec["detector"]) if "detector" in spec else None,
                         online_model=online_model())
        correct = run["correct"]
        before = float(np.nanmean(correct[300:ABRUPT]))
        curves[name].append(rolling_mean(np.nan_to_num(correct[300:]), 100))
        policy_rows.append({"policy": name, "seed": s, "accuracy over the stream": float(np.nanmean(correct[300:])),
                            "accuracy after the swap": float(np.nanmean(correct[ABRUPT:GRADUAL])),
                            "recovery after the swap": recovery_time(correct, ABRUPT, before),
                            "recovery after the gradual drift": recovery_time(correct, GRADUAL, before),
                            "labels used": run["labels"], "retrainings": len(run["retrains"]),
                            "retrainings before the first drift": sum(t < ABRUPT for t in run["retrains"])})
policy_frame = pd.DataFrame(policy_rows)

# %% tags=["nbval-check-output"]
policy_table = policy_frame.drop(columns="seed").groupby("policy", sort=False).agg(["mean", "std"])
print(policy_table.round(2).to_string())

# %% mystnb={"image": {"alt": "Rolling accuracy over the stream, averaged over seeds, for five policies. All start near 0.9. At the label swap the train-once model drops near 0.1 and stays low, rising only to about 0.5 after the gradual drift; the scheduled model drops and recovers at its next retraining; the triggered models recover a few hundred examples after the swap; the online learner dips briefly and recovers fastest."}}
fig, ax = plt.subplots(figsize=(8, 3.4))
t_axis = np.arange(300, STREAM_N)
for name, runs in curves.items():
    ax.plot(t_axis, np.mean(runs, axis=0), label=name, linewidth=1.2)
for position, text in ((ABRUPT, "label swap"), (GRADUAL, "gradual drift")):
    ax.axvline(position, color="grey", linestyle=":")
    ax.text(position + 20, 0.03, text, fontsize=8, color="grey")
ax.set_xlabel("position in the stream")
ax.set_ylabel("rolling accuracy (100 examples)")
ax.set_ylim(0, 1)
ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()
plt.show()

# %%
means = policy_frame.groupby("policy").mean(numeric_only=True)
for key, name in (("once", "train once"), ("scheduled", "scheduled"), ("adwin", "triggered (ADWIN)"),
                  ("ph", "triggered (Page-Hinkley)"), ("online", "online")):
    glue(f"policy_{key}_acc", float(means.loc[name, "accuracy over the stream"]), fmt=".0%")
    glue(f"policy_{key}_labels", float(means.loc[name, "labels used"]), fmt=".0f")
    glue(f"policy_{key}_recovery", float(means.loc[name, "recovery after the swap"]), fmt=".0f")
glue("policy_once_after_swap", float(means.loc["train once", "accuracy after the swap"]), fmt=".0%")
glue("policy_false_retrains", float(policy_frame.loc[policy_frame.policy.str.startswith("triggered"),
                                                      "retrainings before the first drift"].sum()), fmt=".0f")
print(means[["accuracy over the stream", "accuracy after the swap", "recovery after the swap"]].round(2)
      .join(means["labels used"].round().astype(int)).to_string())
# Margins: the sd over seeds of these accuracies is about 0.01-0.03 (table above); the gaps asserted are much larger.
assert means.loc["train once", "accuracy after the swap"] < 0.3, "a model trained once fails after the swap"
for name in ("scheduled", "triggered (ADWIN)", "triggered (Page-Hinkley)", "online"):
    assert means.loc[name, "accuracy over the stream"] > means.loc["train once", "accuracy over the stream"] + 0.2
assert means.loc["triggered (Page-Hinkley)", "labels used"] < means.loc["online", "labels used"] / 2

# %% [markdown]
# A model trained once is right {glue:text}`policy_once_after_swap` of the
# time after the label swap: it keeps answering the old question perfectly
# confidently. Over the stream it averages {glue:text}`policy_once_acc` with
# {glue:text}`policy_once_labels` labels. Scheduled retraining reaches
# {glue:text}`policy_scheduled_acc` with {glue:text}`policy_scheduled_labels`
# labels but waits for its next slot (recovery {glue:text}`policy_scheduled_recovery`
# examples); the detector-triggered policies reach {glue:text}`policy_adwin_acc`
# (ADWIN) and {glue:text}`policy_ph_acc` (Page-Hinkley) with about
# {glue:text}`policy_ph_labels` labels, recovering in
# {glue:text}`policy_adwin_recovery` and {glue:text}`policy_ph_recovery`
# examples, and neither retrained before the first drift in any seed
# ({glue:text}`policy_false_retrains` false retrainings). The online learner is
# best, {glue:text}`policy_online_acc` (recovery {glue:text}`policy_online_recovery`),
# but it needs a label for every one of the {glue:text}`policy_online_labels`
# examples. Every policy that recovers does so because someone supplied fresh
# labels: the number of labels is the price of keeping up with the world.
#
# ## 7. Humans in the loop
#
# ### Monitoring without labels: an alarm set on drift-free data
#
# Labels arrive late or never, so monitoring starts with signals that need
# none {cite}`rabanser2019failing,sculley2015hidden`: how far the inputs'
# mean moves from the training data's, how confident the model is, and how
# often it predicts each class. We deploy a logistic regression trained on
# the digits and watch windows of 50 images. The *calibration* stream
# (validation images, drift-free) sets each alarm's threshold: the quantile
# of its windows that a drift-free window exceeds with the chosen false-alarm
# rate. The *monitored* stream (test images) is drift-free for 20 windows;
# then cameras are replaced one after another by ones mounted a pixel to the
# left, so a growing share of the images (1/20 of them in the first drifted
# window, all of them in the last) arrive shifted one pixel to the right: a
# gradual covariate shift. The audited error rate (a human labels a random 20%
# of the images) is the labelled signal for comparison.

# %%
digits = load("digits", seed=SEED)
digits_X = {which: digits.split(which).X / 16.0 for which in ("train", "val", "test")}  # pixels in [0, 1]
monitor_model = LogisticRegression(max_iter=1000).fit(digits_X["train"], digits.train.y)
train_mean = digits_X["train"].mean(axis=0)
train_freq = np.bincount(monitor_model.predict(digits_X["train"]), minlength=10) / len(digits.train.y)


def shift_right(X):
    images = X.reshape(-1, 8, 8)
    shifted = np.zeros_like(images)
    shifted[:, :, 1:] = images[:, :, :-1]
    return shifted.reshape(-1, 64)


def monitored_stream(seed, n_windows=40, window=50):
    rng = np.random.default_rng(seed)
    calibration_rows = rng.integers(0, len(digits.val.y), size=n_windows * window)
    rows = rng.integers(0, len(digits.test.y), size=n_windows * window)
    X, y = digits_X["test"][rows].copy(), digits.test.y[rows]
    half = n_windows // 2 * window
    share_shifted = np.repeat(np.arange(1, n_windows // 2 + 1) / (n_windows // 2), window)  # 1/20, 2/20, ..., 1
    shifted = np.r_[np.zeros(half, bool), rng.uniform(size=half) < share_shifted]
    X[shifted] = shift_right(X[shifted])
    audit = rng.uniform(size=len(y)) < 0.2
    return (digits_X["val"][calibration_rows], digits.val.y[calibration_rows], X, y, audit)


FALSE_ALARM_TARGETS = [0.2, 0.1, 0.05, 0.01]
monitor_rows = []
for s in SEEDS:
    X_cal, y_cal, X_mon, y_mon, audit = monitored_stream(s)
    calibration = window_signals(monitor_model, X_cal, y_cal, train_mean, train_freq,
                                 audit=np.random.default_rng(s + 1).uniform(size=len(y_cal)) < 0.2)
    monitored = window_signals(monitor_model, X_mon, y_mon, train_mean, train_freq, audit=audit)
    for signal in monitored:
        for target in FALSE_ALARM_TARGETS:
            threshold = alarm_threshold(calibration[signal], target)
            report = alarm_report(monitored[signal], threshold, drift_window=20)
            monitor_rows.append({"signal": signal, "target false-alarm rate": target, "seed": s, **report})
monitor_frame = pd.DataFrame(monitor_rows)
accuracy_before = monitor_model.score(X_mon[: 20 * 50], y_mon[: 20 * 50])
accuracy_after = monitor_model.score(X_mon[20 * 50 :], y_mon[20 * 50 :])

# %% tags=["nbval-check-output"]
monitor_table = (monitor_frame.drop(columns="seed").groupby(["signal", "target false-alarm rate"], sort=False)
                 .agg(["mean", "std"]))
print(f"accuracy before the shift {accuracy_before:.3f}, after {accuracy_after:.3f}")
print(monitor_table.round(2).to_string())

# %%
at_5 = monitor_frame[monitor_frame["target false-alarm rate"] == 0.05].groupby("signal").mean(numeric_only=True)
glue("monitor_acc_before", float(accuracy_before), fmt=".0%")
glue("monitor_acc_after", float(accuracy_after), fmt=".0%")
glue("monitor_input_delay", float(at_5.loc["input shift", "detection delay"]), fmt=".0f")
glue("monitor_conf_delay", float(at_5.loc["confidence drop", "detection delay"]), fmt=".0f")
glue("monitor_input_fa", float(at_5.loc["input shift", "false alarm rate"]), fmt=".0%")
glue("monitor_conf_fa", float(at_5.loc["confidence drop", "false alarm rate"]), fmt=".0%")
glue("monitor_input_rate", float(at_5.loc["input shift", "detection rate"]), fmt=".0%")
at_20 = monitor_frame[monitor_frame["target false-alarm rate"] == 0.2].groupby("signal").mean(numeric_only=True)
glue("monitor_input_fa_20", float(at_20.loc["input shift", "false alarm rate"]), fmt=".0%")
print(f"detection delay at a 5% target: input shift {at_5.loc['input shift', 'detection delay']:.0f}, "
      f"confidence drop {at_5.loc['confidence drop', 'detection delay']:.0f} images after the drift begins")
print(f"accuracy before the shift {accuracy_before:.0%}, after {accuracy_after:.0%}; "
      f"input-shift false-alarm rate at a 20% target {at_20.loc['input shift', 'false alarm rate']:.0%}")
print(at_5.drop(columns="seed").round(3).to_string())
# Margins: false-alarm rates vary by about 0.1 between seeds (table); the asserts leave that much room.
assert accuracy_after < accuracy_before - 0.2, "the shift hurts the model"
assert at_5.loc["input shift", "detection delay"] <= 500, "the input statistic catches the drift within 10 windows"
assert at_5.loc["input shift", "false alarm rate"] < 0.35, "and fires on few drift-free windows"

# %% [markdown]
# The shift drops the model's accuracy from {glue:text}`monitor_acc_before`
# before it to {glue:text}`monitor_acc_after` over the drifted windows, and
# nothing in its outputs says so unless someone looks. With a target
# false-alarm rate of 5%, the input statistic fires
# {glue:text}`monitor_input_delay` images after the drift begins, on
# {glue:text}`monitor_input_rate` of the drifted windows, and on
# {glue:text}`monitor_input_fa` of the drift-free ones; the confidence
# signal fires after {glue:text}`monitor_conf_delay` images with
# {glue:text}`monitor_conf_fa` false alarms. Read down the table: a lower
# target false-alarm rate raises the threshold, and the alarm waits longer for
# the drift to grow. The measured false-alarm rates miss their targets, the
# input statistic's by most ({glue:text}`monitor_input_fa_20` at a target of
# 20%): the calibration windows come from other images (the validation split)
# than the monitored ones, and 40 windows pin a quantile down only roughly.
# Someone has to choose the trade-off, check the calibration, and answer the
# alarms.
#
# Label-free signals have a blind spot. In the stream of section 6 the label
# swap changes no input and no confidence: the model trained once stays just
# as sure of itself while it turns wrong.

# %% tags=["nbval-check-output"]
once_model = LogisticRegression(C=100).fit(X_stream[:300], y_stream[:300])
confidence = once_model.predict_proba(X_stream).max(axis=1)
correct_once = once_model.predict(X_stream) == y_stream
blind = pd.DataFrame({"mean confidence": [confidence[300:ABRUPT].mean(), confidence[ABRUPT:GRADUAL].mean()],
                      "accuracy": [correct_once[300:ABRUPT].mean(), correct_once[ABRUPT:GRADUAL].mean()]},
                     index=["before the swap", "after the swap"])
print(blind.round(3))
glue("blind_conf_before", float(blind.iloc[0, 0]), fmt=".2f")
glue("blind_conf_after", float(blind.iloc[1, 0]), fmt=".2f")
glue("blind_acc_after", float(blind.iloc[1, 1]), fmt=".0%")
assert abs(blind.iloc[0, 0] - blind.iloc[1, 0]) < 0.03 and blind.iloc[1, 1] < 0.2

# %% [markdown]
# Its mean confidence is {glue:text}`blind_conf_before` before the swap and
# {glue:text}`blind_conf_after` after it, while its accuracy falls to
# {glue:text}`blind_acc_after`. Only labels, that is, people checking answers,
# reveal a change in what the labels mean.
#
# ### Active learning: which examples should a human label?
#
# Labelling is the expensive part. **Uncertainty sampling**
# {cite}`settles2009active` asks the human to label the examples the current
# model is least sure about (the smallest margin between its two most likely
# classes), instead of random ones. Starting from 10 labelled digits (one per
# class), a logistic regression asks for 10 labels per round up to 150; the
# curves are validation accuracy, over seeds.

# %%
AL_BUDGET = 150
al_curves = {"random": [], "uncertainty": []}
for s in SEEDS:
    for strategy in al_curves:
        sizes, scores = active_learning_curve(digits_X["train"], digits.train.y, digits_X["val"], digits.val.y,
                                              strategy=strategy, start=10, step=10, budget=AL_BUDGET, seed=s)
        al_curves[strategy].append(scores)
al_table = pd.DataFrame({f"{k} (mean)": np.mean(v, axis=0) for k, v in al_curves.items()} |
                        {f"{k} (sd)": np.std(v, axis=0, ddof=1) for k, v in al_curves.items()}, index=sizes)
al_table.index.name = "labels"

# %% tags=["nbval-check-output"]
print(al_table.round(3))
glue("al_random_final", float(al_table.loc[AL_BUDGET, "random (mean)"]), fmt=".1%")
glue("al_uncertainty_final", float(al_table.loc[AL_BUDGET, "uncertainty (mean)"]), fmt=".1%")
reached = al_table.index[al_table["uncertainty (mean)"] >= al_table.loc[AL_BUDGET, "random (mean)"]]
glue("al_labels_to_match", float(reached.min()), fmt=".0f")
# per seed (same seed, same starting labels for both strategies): the gain at the full budget
final_gap = np.array(al_curves["uncertainty"])[:, -1] - np.array(al_curves["random"])[:, -1]
glue("al_gap", float(final_gap.mean()), fmt=".1%")
glue("al_gap_sd", float(final_gap.std(ddof=1)), fmt=".1%")
print(f"at {AL_BUDGET} labels, uncertainty - random, per seed: {np.round(final_gap, 3)}; "
      f"{final_gap.mean():.3f} ± {final_gap.std(ddof=1):.3f}")
# Margin: over 10 runs (2 splits x 5 seeds) the gain was 0.003 to 0.044, positive every time; its sd about 0.015.
assert final_gap.mean() > 0.5 * final_gap.std(ddof=1) and (final_gap > -0.01).all(), "uncertainty sampling helps"

# %% mystnb={"image": {"alt": "Validation accuracy against number of labelled digits, 10 to 150, for random and uncertainty sampling, with shaded bands over seeds. Both rise; the uncertainty-sampling curve pulls ahead after a few rounds and stays above."}}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for k, color in (("random", "tab:grey"), ("uncertainty", "tab:green")):
    mean, sd = al_table[f"{k} (mean)"], al_table[f"{k} (sd)"]
    ax.plot(al_table.index, mean, marker="o", color=color, label=f"{k} sampling")
    ax.fill_between(al_table.index, mean - sd, mean + sd, color=color, alpha=0.2)
ax.set_xlabel("labelled digits")
ax.set_ylabel("validation accuracy")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# With {glue:text}`al_labels_to_match` labels chosen by uncertainty the model
# is as accurate as with 150 random ones; at 150 labels it reaches
# {glue:text}`al_uncertainty_final` against {glue:text}`al_random_final`, a gain
# of {glue:text}`al_gap` ± {glue:text}`al_gap_sd` over seeds. The gain is
# modest and varies from seed to seed, and with very few labels the model's
# own uncertainty is a poor guide (the curves cross early in some runs). The
# human still labels every example: active learning only decides *which*.
#
# ### Reviewing suspicious labels
#
# Real data sets contain wrong labels {cite}`northcutt2021pervasive`. We flip
# 10% of the digits' training labels at random, then rank the examples by how
# little probability a model gives to their label, each scored by a model
# trained on the other folds (out-of-fold). A reviewer who reads the ranking
# from the top finds errors much faster than one who checks examples at
# random.

# %%
review_rows = []
for s in SEEDS:
    noisy, is_error = inject_label_errors(digits.train.y, 0.1, 10, seed=s)
    order = review_order(digits_X["train"], noisy, seed=s)
    random_order = np.random.default_rng(s).permutation(len(noisy))
    review_rows.append({"seed": s, "ranked: errors in first 100": errors_found(order, is_error, 100),
                        "random: errors in first 100": errors_found(random_order, is_error, 100),
                        "injected errors": int(is_error.sum())})
review = pd.DataFrame(review_rows).set_index("seed")

# %% tags=["nbval-check-output"]
print(review)
glue("review_ranked", float(review["ranked: errors in first 100"].mean()), fmt=".0f")
glue("review_random", float(review["random: errors in first 100"].mean()), fmt=".0f")
glue("review_injected", float(review["injected errors"].mean()), fmt=".0f")
print(f"mean over seeds: ranked review finds {review['ranked: errors in first 100'].mean():.0f} errors "
      f"in the first 100 reviewed, random review {review['random: errors in first 100'].mean():.0f}")
assert review["ranked: errors in first 100"].min() > 3 * review["random: errors in first 100"].max()

# %% [markdown]
# Of {glue:text}`review_injected` injected errors, the first 100 ranked
# examples hold {glue:text}`review_ranked` on average, against
# {glue:text}`review_random` for 100 random ones. The model finds the
# suspects; a person decides which label is right.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/11_continual_learning.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: does more training stop forgetting?
# :label: ch11-ex1
# Naive fine-tuning forgot everything in section 2 after 10 epochs per task.
# Suppose each task is trained for **30** epochs instead. What happens to the
# class-incremental average accuracy of naive fine-tuning after all five
# tasks? Set `more_epochs_prediction` to `"a"` (it rises to 50% or more),
# `"b"` (it stays within 10 points of what it was) or `"c"` (it falls below
# 10%). Commit to an answer before running the cell after the check.
# ```
#
# ```{solution-start} ch11-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch11-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
more_epochs_prediction = "b"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch11-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% tags=["nbval-check-output"]
# The experiment: naive fine-tuning, class-incremental, 10 vs 30 epochs per task (validation sets).
for epochs in (10, 30):
    R = train_sequentially(tasks, "class", chosen["class"]["naive"].with_(epochs=epochs), seed=SEED)["val"]
    print(f"{epochs} epochs per task: average accuracy {average_accuracy(R):.2f}, forgetting {forgetting(R):.2f}")

# %% [markdown]
# ```{exercise} Backward transfer from an accuracy matrix
# :label: ch11-ex2
# Write `my_backward_transfer(R)`: for a square accuracy matrix `R` (a NumPy
# array, `R[i, j]` the accuracy on task `j` after training task `i`), return
# the backward transfer defined in section 2 as a float (0.0 for a single task).
# ```
#
# ```{solution-start} ch11-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch11-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def my_backward_transfer(R):
    ### BEGIN SOLUTION
    R = np.asarray(R, dtype=float)
    n_tasks = R.shape[0]
    if n_tasks < 2:
        return 0.0
    changes = [R[-1, j] - R[j, j] for j in range(n_tasks - 1)]
    return float(np.mean(changes))
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch11-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Diagnose: an alarm that never rings
# :label: ch11-ex3
# A colleague monitors the digits model of section 7 with the input statistic.
# To "use the freshest data", they set the threshold with
# `alarm_threshold(monitored["input shift"], 0.05)`, that is, on the
# windows of the monitored stream itself, then run `alarm_report` on that same
# stream. The alarm hardly ever fires on the drift-free windows, but it also
# fires on only a few of the drifted ones. What is wrong? Set
# `alarm_diagnosis` to one letter:
#
# - `"a"`: windows of 50 images are too short for the input statistic;
# - `"b"`: a 5% false-alarm rate is too strict; 20% would catch the shift;
# - `"c"`: the threshold was set on windows that include the drifted ones, so
#   the drifted level counts as normal;
# - `"d"`: the input statistic cannot see a shift of the images.
# ```
#
# ```{solution-start} ch11-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch11-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
alarm_diagnosis = "c"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch11-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% tags=["nbval-check-output"]
# The two calibrations side by side, on the last seed's streams.
for name, reference in (("drift-free calibration stream", calibration["input shift"]),
                        ("the monitored stream itself", monitored["input shift"])):
    report = alarm_report(monitored["input shift"], alarm_threshold(reference, 0.05), drift_window=20)
    print(f"threshold set on {name}: false-alarm rate {report['false alarm rate']:.2f}, "
          f"detection rate {report['detection rate']:.2f}")

# %% [markdown]
# ```{exercise} Experiment: the smallest replay memory that does the job
# :label: ch11-ex4
# With `split_digits(seed=0)`, the class-incremental scenario, seed 0 and
# `Strategy("replay", memory_per_class=m)` (all other settings at their
# defaults), find the smallest `m` in `[1, 2, 3, 5, 8, 13, 20]` whose
# **validation** average accuracy is at least 0.85. Set `smallest_memory` to
# it. The check re-runs your value and the one below it on the grid.
# ```
#
# ```{solution-start} ch11-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch11-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
exercise_tasks = split_digits(seed=0)
smallest_memory = None
for m in [1, 2, 3, 5, 8, 13, 20]:
    strategy = Strategy("replay", memory_per_class=m)
    R = train_sequentially(exercise_tasks, "class", strategy, seed=0)["val"]
    if average_accuracy(R) >= 0.85:
        smallest_memory = m
        break
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch11-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - A network trained task after task **forgets**: in the class-incremental
#   scenario naive fine-tuning keeps only the last task. Knowing the task at
#   test time (task-incremental) hides most of the problem; telling all
#   classes apart (class-incremental) exposes it.
# - The accuracy matrix, with average accuracy, forgetting and backward
#   transfer, says how much was kept and where it was lost.
# - Regularisers (EWC, LwF) help a little in the domain-incremental scenario
#   and not in the class-incremental one, over a wide range of strengths.
#   **Replaying a few stored examples** per class recovers most of joint
#   training's accuracy, at the cost of keeping data, with its privacy duties.
# - On a stream, evaluate **prequentially**. A model trained once does not
#   "work perfectly" forever: after a drift it can be confidently wrong.
#   Retraining on a schedule, on a detector's alarm, or online recovers, and
#   each pays in labels.
# - **Humans stay in the loop**: they choose alarm thresholds on drift-free
#   data and answer the alarms, supply the labels that reveal a change of
#   meaning, label the examples active learning picks, and judge the labels a
#   model flags as suspicious.
#
# For more depth: the three scenarios and many more methods in
# {cite}`vandeven2022three`; concept drift in {cite}`gama2014survey`; river's
# documentation for streaming models and detectors {cite}`montiel2021river`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
