"""Chapter 1's checks reject plausible wrong answers (broken ones: tests/test_exercises.py).

The reference solutions come from the notebook (notebook_support.chapter_solutions), never retyped here.
"""

import math

import numpy as np
import torch

from helpers.exercises import ch01_training_loop as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("01_training_loop")


def test_references_pass():
    assert ex.q1.evaluate(SOLUTIONS["predicted_initial_loss"]).correct
    assert ex.q2.evaluate(SOLUTIONS["diagnosis"]).correct
    assert ex.q3.evaluate(SOLUTIONS["line_experiment"]).correct
    assert ex.q4.evaluate(SOLUTIONS["least_squares"]).correct


def test_initial_loss_check_names_the_usual_mistakes():
    assert ex.q1.evaluate(math.log(3) + 0.1).correct  # a little above ln 3, as random weights give
    expected_messages = {
        math.log(10): "ten classes",
        math.log10(3): "natural logarithm",
        math.log2(3): "log base 2",
        1 / 3: "probability",
        0.0: "near 0",
        -1.1: "never negative",
        4.0: "knows nothing",
    }
    for wrong, message in expected_messages.items():
        result = ex.q1.evaluate(wrong)
        assert result.status == "incorrect" and message in result.message, (wrong, result)


def test_diagnosis_check_explains_each_wrong_letter():
    assert ex.q2.evaluate(" b ").correct
    assert "ln 10" in ex.q2.evaluate("A").message or "near one value" in ex.q2.evaluate("A").message
    assert "zero_grad" in ex.q2.evaluate("C").message
    assert "Section 5" in ex.q2.evaluate("D").message
    for not_a_letter in ("E", "B and C", 2):
        assert "one of the letters" in ex.q2.evaluate(not_a_letter).message


def _run(lr):
    x, y = ex.line_data()
    return {"learning_rate": lr, "mse": ex._mse_after_gradient_descent(x, y, lr, 10)}


def test_line_experiment_check_reruns_the_learners_experiment():
    assert ex.q3.evaluate(_run(0.35)).correct
    crawling = ex.q3.evaluate(_run(0.1))  # the chapter's rate: right run, but 10 steps are not enough
    assert crawling.status == "incorrect" and "above the least-squares minimum" in crawling.message
    assert "diverges" in ex.q3.evaluate(_run(1.0)).message
    assert "positive" in ex.q3.evaluate(_run(-0.1)).message
    claimed_too_good = {"learning_rate": 0.1, "mse": 0.2455}  # a rate that does not get there, with a made-up MSE
    assert "not the" in ex.q3.evaluate(claimed_too_good).message
    assert "dict" in ex.q3.evaluate(0.35).message
    assert "dict" in ex.q3.evaluate({"lr": 0.35, "mse": 0.25}).message


def _design(X):
    return torch.cat([X, torch.ones(len(X), 1)], dim=1)


def test_least_squares_check_rejects_missing_bias_wrong_order_and_library_solvers():
    def no_bias(X, y):
        return torch.linalg.solve(X.T @ X, X.T @ y).reshape(-1)

    def bias_first(X, y):
        A = torch.cat([torch.ones(len(X), 1), X], dim=1)
        return torch.linalg.solve(A.T @ A, A.T @ y).reshape(-1)

    def with_lstsq(X, y):
        return torch.linalg.lstsq(_design(X), y).solution.reshape(-1)

    def with_numpy_pinv(X, y):
        return np.linalg.pinv(_design(X).numpy()) @ y.numpy().ravel()

    def zero_bias(X, y):
        return torch.cat([no_bias(X, y), torch.zeros(1)])

    def gradient_of_wrong_sign(X, y):  # solves A^T A theta = -A^T y
        A = _design(X)
        return torch.linalg.solve(A.T @ A, -A.T @ y).reshape(-1)

    assert "bias is missing" in ex.q4.evaluate(no_bias).message
    assert "wrong order" in ex.q4.evaluate(bias_first).message
    assert "yourself" in ex.q4.evaluate(with_lstsq).message
    assert "yourself" in ex.q4.evaluate(with_numpy_pinv).message
    assert "minimum is" in ex.q4.evaluate(zero_bias).message
    assert "minimum is" in ex.q4.evaluate(gradient_of_wrong_sign).message
    assert torch.linalg.lstsq is not None and ex.q4.evaluate(with_lstsq).status == "incorrect"
    torch.linalg.lstsq(_design(torch.randn(5, 2)), torch.randn(5, 1))  # the solvers work again after a check
    np.linalg.pinv(np.eye(2))
