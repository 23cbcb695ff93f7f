"""Checks for the exercises of Chapter 10, "Transfer learning".

- q1 ``prediction_random`` (predict, then run): a probe on untrained features, near scratch or near the pretrained probe;
- q2 ``diagnosis`` (diagnose): why a fine-tune does worse than a linear probe;
- q3 ``backbone_lr`` (experiment): a backbone learning rate that beats scratch, verified by a run;
- q4 ``cka`` (implement): linear centred kernel alignment.

Each checker builds its own inputs, so it never depends on the notebook's state
(q3 pretrains its own small backbone, once per session).
"""

from __future__ import annotations

import functools
import os
import tempfile

import numpy as np
import torch
from torch import nn

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# Exercise 1: predict, then run
# --------------------------------------------------------------------------

PREDICTIONS = ("scratch", "pretrained probe")


def _check_prediction(prediction) -> None:
    if not isinstance(prediction, str) or prediction.strip().lower() not in PREDICTIONS:
        raise Incorrect(f"set prediction_random to one of {', '.join(repr(p) for p in PREDICTIONS)}")
    if prediction.strip().lower() == "pretrained probe":
        raise Incorrect("the run below disagrees: random convolutions do compute features, but features "
                        "that nobody trained to tell bumps and slopes apart. Run it and see how far they fall.")


# --------------------------------------------------------------------------
# Exercise 2: diagnose
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "the run prints that the head's weights changed, so the head was trained (a frozen head keeps "
         "its weights). Look at the learning rates and at the CKA.",
    "C": "the linear probe does better with the very same 5 labels per class, so the labels are enough "
         "for a better model.",
    "D": "nothing in the run touched the test set: every number printed is a training or validation accuracy.",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}")


# --------------------------------------------------------------------------
# Exercise 3: a backbone learning rate, verified by a run
# --------------------------------------------------------------------------

HEAD_LR = 0.03
SCRATCH_LR = 3e-3  # the best of 1e-3, 3e-3, 1e-2 for scratch on the check's own task
MARGIN = 0.08
K = 5
CHECK_SEEDS = (0, 1, 2)


@functools.lru_cache(maxsize=1)
def _checker_experiment():
    """A small backbone pretrained on MNIST-1D, and a target task of its own (built once per session)."""
    from helpers.checkpoint import save_weights
    from helpers.train import fit
    from helpers.transfer import FewLabelSetup, TransferNet, make_signals, target_task

    X, y = make_signals(2000, seed=7)
    torch.manual_seed(7)
    model = TransferNet(10, 24)
    fit(model, (X[:1600], y[:1600]), (X[1600:], y[1600:]), loss_fn=nn.CrossEntropyLoss(), lr=3e-3, epochs=8,
        batch_size=64, device="cpu", progress=False)
    path = os.path.join(tempfile.mkdtemp(prefix="ch10_check_"), "backbone.pt")
    save_weights(model.backbone, path)
    target = target_task(per_class=(10, 20, 50), seed=7)
    return FewLabelSetup(target, path, make_model=lambda: TransferNet(10, 24), steps=80)


@functools.lru_cache(maxsize=1)
def _scratch_accuracy() -> float:
    """Scratch at its tuned learning rate on the check's task (computed once per session)."""
    return _mean_test_accuracy(_checker_experiment(), SCRATCH_LR, None)


def _mean_test_accuracy(experiment, head_lr, backbone_lr) -> float:
    from helpers.transfer import TransferNet, accuracy, fine_tune, labels_per_class

    scores = []
    for seed in CHECK_SEEDS:
        idx = labels_per_class(experiment.target.train.y, K, seed)
        torch.manual_seed(seed)
        model = experiment.pretrained_model() if backbone_lr is not None else TransferNet(10, 24)
        lr_backbone = backbone_lr if backbone_lr is not None else head_lr
        fine_tune(model, (experiment.target.train.X[idx], experiment.target.train.y[idx]), None, head_lr=head_lr,
                  backbone_lr=lr_backbone, epochs=round(experiment.steps / 2), batch_size=32, device="cpu")
        with torch.no_grad():
            model.eval()
            predicted = model(torch.as_tensor(experiment.target.test.X)).argmax(1).numpy()
        scores.append(accuracy(predicted, experiment.target.test.y))
    return float(np.mean(scores))


def _check_backbone_lr(backbone_lr) -> None:
    value = expect_number(backbone_lr, "a learning rate (a number)")
    if value < 0:
        raise Incorrect("a learning rate cannot be negative")
    if value == 0:
        raise Incorrect("with backbone_lr = 0 the backbone is frozen: that is a linear probe, not fine-tuning. "
                        "Give the backbone a small positive learning rate.")
    if value > 1:
        raise Incorrect(f"backbone_lr = {value:g} is far beyond any rate Adam(W) trains with; "
                        "the chapter's grids stay below 0.1")
    if value < 1e-6:
        raise Incorrect(f"backbone_lr = {value:g} barely moves the backbone in 80 steps: "
                        "this is a linear probe in disguise. Try something between 1e-4 and 1e-2.")
    with torch.random.fork_rng():  # the check leaves the notebook's random numbers alone
        experiment = _checker_experiment()
        scratch = _scratch_accuracy()
        tuned = _mean_test_accuracy(experiment, HEAD_LR, value)
    if tuned < scratch + MARGIN:
        advice = ("a rate this high overwrites the pretrained features (remember the CKA of Section 6): "
                  "try a much smaller one" if value > 1e-2 else "try another value between 1e-4 and 1e-2")
        raise Incorrect(f"fine-tuning with backbone_lr = {value:g} reached {tuned:.1%} against {scratch:.1%} "
                        f"from scratch (mean of {len(CHECK_SEEDS)} draws): less than {MARGIN:.0%} better; {advice}")


# --------------------------------------------------------------------------
# Exercise 4: linear CKA
# --------------------------------------------------------------------------


def _check_cka(cka) -> None:
    from helpers.transfer import linear_cka

    expect_callable(cka, "a function cka(X, Y)")
    rng = np.random.default_rng(10)
    X = rng.normal(size=(200, 6)) + 3.0  # columns with non-zero means
    Y = X @ rng.normal(size=(6, 4)) + rng.normal(size=(200, 4)) + 5.0
    value = expect_number(call_answer(cka, X, Y), "the CKA of X and Y (a number)")
    expected = linear_cka(X, Y)
    uncentred = np.linalg.norm(Y.T @ X) ** 2 / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))
    if not np.isclose(value, expected, atol=1e-6) and np.isclose(value, uncentred, atol=1e-6):
        raise Incorrect("centre every column first (subtract its mean over the n inputs): "
                        "CKA compares how the inputs vary, not where the features sit")
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    unsquared = np.linalg.norm(Yc.T @ Xc) / np.sqrt(np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))
    if not np.isclose(value, expected, atol=1e-6) and np.isclose(value, unsquared, atol=1e-6):
        raise Incorrect("the numerator is the *squared* Frobenius norm of Y^T X, the denominator is not squared")
    expect_close(value, expected, atol=1e-6, what="cka(X, Y) for two related representations")
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    expect_close(call_answer(cka, X, 3 * X @ Q), 1.0, atol=1e-6,
                 what="cka(X, 3 X Q) for an orthogonal Q (a rotation and a scale should give 1)")
    independent = expect_number(call_answer(cka, rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3))))
    if independent > 0.05:
        raise Incorrect(f"two independent random representations score {independent:.2f}; they should score near 0")
    expect_close(call_answer(cka, Y, X), expected, atol=1e-6, what="cka(Y, X) (CKA is symmetric)")


# --------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------

q1 = Exercise(
    "Exercise 1 (predict, then run: pretraining or architecture?)",
    kind="predict",
    answer_name="prediction_random",
    checker=_check_prediction,
    hints=[
        "What does the probe on pretrained features have that the untrained network lacks? "
        "The architecture is the same in both.",
        "Scratch learns its features from 200 labels; the random network never learns its features at all, "
        "the pretrained one learnt them from 3,200 source signals. Which pair is alike?",
    ],
    success="the run below shows how much of the gain the pretraining brings.",
)

q2 = Exercise(
    "Exercise 2 (diagnose a fine-tune)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Rule out the causes that the printed lines contradict: did the head's weights change? "
        "Does another method do better with the same labels?",
        "Compare the colleague's learning rates and CKA with those of the tuned runs in Sections 5 and 6: "
        "which setting moves the pretrained weights much further than they did?",
    ],
    success="the backbone learnt too fast and forgot what pretraining taught it; its tuned rate is far smaller.",
)

q3 = Exercise(
    "Exercise 3 (a backbone learning rate that pays)",
    kind="experiment",
    answer_name="backbone_lr",
    checker=_check_backbone_lr,
    hints=[
        "The head starts from random weights and needs a large rate; the backbone is already good and should "
        "move much less. Section 5's best runs give the backbone a tenth of the head's rate or less.",
        "Try values a factor of 10 apart, between 1e-4 and 1e-2, and read the accuracy the check reports.",
    ],
    success="fine-tuning with that backbone rate beats scratch by at least 8 points on the check's own run.",
)

q4 = Exercise(
    "Exercise 4 (linear CKA)",
    kind="implement",
    answer_name="cka",
    checker=_check_cka,
    hints=[
        "Three steps: centre the columns of X and Y, compute three matrix products (Y^T X, X^T X, Y^T Y), "
        "then combine their Frobenius norms.",
        "np.linalg.norm of a matrix is its Frobenius norm; square the one of the cross product only, "
        "and divide by the product of the other two.",
    ],
    success="your CKA matches helpers.transfer.linear_cka, is 1 under rotation and scaling, and near 0 for "
            "unrelated representations.",
)
