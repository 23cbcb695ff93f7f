"""The checks of Chapter 10's exercises accept the reference solutions and reject plausible mistakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import helpers.exercises.ch10_transfer_learning as ex
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED
from notebook_support import solution_namespace

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "10_transfer_learning.py"

_SOLUTIONS = solution_namespace(NOTEBOOK)


def test_reference_solutions_pass():
    for exercise in (ex.q1, ex.q2, ex.q3, ex.q4):
        result = exercise.evaluate(_SOLUTIONS[exercise.answer_name])
        assert result.status == CORRECT, (exercise.name, result)


# ---- q1: predict, then run ----


def test_prediction_check_rejects_the_other_choice_with_a_reason():
    assert "disagrees" in ex.q1.evaluate("pretrained probe").message
    assert ex.q1.evaluate("  Scratch ").status == CORRECT  # case and spaces do not matter
    for bad in ("linear probe", 1, ["scratch"]):
        result = ex.q1.evaluate(bad)
        assert result.status == INCORRECT and "one of" in result.message


# ---- q2: diagnose ----


@pytest.mark.parametrize("letter, evidence", [("A", "weights changed"), ("C", "same 5 labels"), ("D", "test set")])
def test_diagnosis_check_explains_each_wrong_letter(letter, evidence):
    result = ex.q2.evaluate(letter)
    assert result.status == INCORRECT and evidence in result.message


def test_diagnosis_check_rejects_non_letters():
    assert ex.q2.evaluate("E").status == INCORRECT
    assert ex.q2.evaluate(2).status == INCORRECT
    assert ex.q2.evaluate("b").status == CORRECT


# ---- q3: experiment, verified by the check's own run ----


def test_backbone_lr_check_rejects_frozen_and_absurd_values_without_training():
    assert "linear probe" in ex.q3.evaluate(0).message
    assert "negative" in ex.q3.evaluate(-1e-3).message
    assert ex.q3.evaluate(5.0).status == INCORRECT
    assert "disguise" in ex.q3.evaluate(1e-8).message
    assert ex.q3.evaluate("1e-3").status == INCORRECT
    assert ex.q3.evaluate(float("nan")).status == INCORRECT


def test_backbone_lr_check_rejects_a_rate_that_overwrites_the_features_and_keeps_the_random_state():
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    result = ex.q3.evaluate(0.1)  # trains: the check's own backbone, fine-tuned at a far too high rate
    assert result.status == INCORRECT and "overwrites" in result.message
    assert torch.equal(torch.rand(3), expected), "the check leaves the global random numbers alone"


# ---- q4: implement linear CKA ----


def cka_uncentred(X, Y):
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    return float(np.linalg.norm(Y.T @ X) ** 2 / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def cka_unsquared(X, Y):
    X, Y = np.asarray(X, float) - np.mean(X, 0), np.asarray(Y, float) - np.mean(Y, 0)
    return float(np.linalg.norm(Y.T @ X) / np.sqrt(np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def cka_correlation_of_first_columns(X, Y):
    return float(abs(np.corrcoef(np.asarray(X)[:, 0], np.asarray(Y)[:, 0])[0, 1]))


def test_cka_check_names_the_usual_mistakes():
    assert "centre" in ex.q4.evaluate(cka_uncentred).message
    assert "squared" in ex.q4.evaluate(cka_unsquared).message
    assert ex.q4.evaluate(cka_correlation_of_first_columns).status == INCORRECT


def test_checks_survive_broken_answers():
    def raises(*args):
        raise RuntimeError("boom")

    result = ex.q4.evaluate(raises)
    assert result.status == INCORRECT and "RuntimeError" in result.message
    assert ex.q4.evaluate(lambda X, Y: None).status == NOT_ATTEMPTED
    assert ex.q4.evaluate(42).status == INCORRECT
    for exercise in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert exercise.evaluate(None).status == NOT_ATTEMPTED
