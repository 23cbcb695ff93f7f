"""Chapter 4's checks accept the reference solutions and reject plausible wrong answers."""

import math

import torch
import torch.nn.functional as F

from helpers.exercises import ch04_loss_functions as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("04_loss_functions")  # the notebook's own solution cells


def test_checks_accept_the_reference_solutions():
    for exercise in ex.EXERCISES:
        result = exercise.evaluate(SOLUTIONS[exercise.answer_name])
        assert result.correct, f"{exercise.name}: {result}"


def test_there_are_four_exercises_of_at_least_three_kinds():
    assert [q.answer_name for q in ex.EXERCISES] == ["prediction_middle", "bce_with_logits", "diagnosis",
                                                     "lr_squared_error"]
    for exercise in ex.EXERCISES:
        assert len(exercise.hints) >= 2


def test_prediction_check_rejects_the_other_choices_and_non_answers():
    larger = ex.q1.evaluate("larger")
    assert larger.status == "incorrect" and "pivot" in larger.message
    same = ex.q1.evaluate("about the same")
    assert same.status == "incorrect" and "where along x" in same.message
    assert ex.q1.evaluate(" Smaller ").correct  # case and spaces do not matter
    for broken in ("less", 3, ["smaller"]):
        result = ex.q1.evaluate(broken)
        assert result.status == "incorrect" and "one of" in result.message


def test_bce_check_rejects_the_naive_formula_the_sum_and_swapped_cases():
    def naive(scores, targets):  # right on small scores, log(0) for large ones
        p = torch.sigmoid(scores)
        return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()

    result = ex.q2.evaluate(naive)
    assert result.status == "incorrect" and "not finite" in result.message
    summed = ex.q2.evaluate(lambda s, t: F.binary_cross_entropy_with_logits(s, t, reduction="sum"))
    assert summed.status == "incorrect" and "sum" in summed.message
    swapped = ex.q2.evaluate(lambda s, t: F.binary_cross_entropy_with_logits(s, 1 - t))
    assert swapped.status == "incorrect" and "swapped" in swapped.message
    per_sample = ex.q2.evaluate(lambda s, t: F.binary_cross_entropy_with_logits(s, t, reduction="none"))
    assert per_sample.status == "incorrect" and "scalar" in per_sample.message
    assert ex.q2.evaluate(lambda s, t: 1 / 0).status == "incorrect"  # a crashing answer is reported, not raised
    assert ex.q2.evaluate("not a function").status == "incorrect"


def test_diagnosis_check_explains_each_wrong_letter():
    for letter, words in [("A", "stopped moving"), ("B", "slope far from 0"), ("D", "shapes")]:
        result = ex.q3.evaluate(letter)
        assert result.status == "incorrect" and words in result.message, (letter, result.message)
    assert ex.q3.evaluate("c").correct
    for broken in ("E", "broadcasting", 3):
        result = ex.q3.evaluate(broken)
        assert result.status == "incorrect" and "one letter" in result.message


def test_learning_rate_check_runs_its_own_experiment():
    # The shared rate that suits cross-entropy is too small for squared error on probabilities.
    too_small = ex.q4.evaluate(0.1)
    assert too_small.status == "incorrect" and "larger" in too_small.message
    too_large = ex.q4.evaluate(30.0)
    assert too_large.status == "incorrect" and "blew up" in too_large.message
    for broken in (0, -1.0, math.nan, "fast", 1e6):
        assert ex.q4.evaluate(broken).status == "incorrect", broken
    assert ex.q4.evaluate(3.0).correct  # the window of good rates is wider than one value


def test_try_learning_rate_reports_the_checked_run(capsys):
    accuracy = ex.try_learning_rate(2.0)
    printed = capsys.readouterr().out
    assert "squared error on p at lr 2" in printed and "cross-entropy at its best rate" in printed
    assert accuracy >= ex._cross_entropy_reference()[1] - ex.MARGIN
    state = torch.random.get_rng_state()
    ex.try_learning_rate(2.0)
    assert torch.equal(state, torch.random.get_rng_state()), "the check must leave the global random state alone"
