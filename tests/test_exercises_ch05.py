"""Chapter 5's checks accept the notebook's solutions and reject plausible wrong answers."""

import math

from helpers.exercises import ch05_optimization as ex
from notebook_support import chapter_solutions


SOLUTIONS = chapter_solutions("05_optimization")  # the notebook's own solution cells
right_schedule = SOLUTIONS["warmup_cosine_lr"]


def test_checks_accept_right_answers():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q.evaluate(SOLUTIONS[q.answer_name]).correct, q.name
    assert ex.q1.evaluate(" Larger").correct and ex.q3.evaluate("b").correct  # case and spaces do not matter


def test_prediction_check_explains_each_wrong_choice_and_never_crashes():
    assert "averages" in ex.q1.evaluate("smaller").message
    assert "1 - lr*b" in ex.q1.evaluate("same").message
    assert ex.q1.evaluate(None).status == "not attempted"
    for broken in (0.19, "bigger", ["larger"]):
        result = ex.q1.evaluate(broken)
        assert result.status == "incorrect" and "one of" in result.message


def test_diagnosis_check_rejects_each_wrong_letter_with_its_own_message():
    messages = {letter: ex.q3.evaluate(letter).message for letter in "ACD"}
    assert all(ex.q3.evaluate(letter).status == "incorrect" for letter in "ACD")
    assert "suits" in messages["A"] and "still falling" in messages["C"] and "test set" in messages["D"]
    assert "one letter" in ex.q3.evaluate("E").message and "one letter" in ex.q3.evaluate(2).message


def test_momentum_check_rejects_averaged_velocity_and_missing_momentum():
    def averaged(x, v, g, lr, mu):
        v = mu * v + (1 - mu) * g
        return x - lr * v, v

    def forgets_velocity(x, v, g, lr, mu):
        return x - lr * g, g

    result = ex.q2.evaluate(averaged)
    assert result.status == "incorrect" and "whole gradient" in result.message
    assert "velocity" in ex.q2.evaluate(forgets_velocity).message
    assert ex.q2.evaluate(lambda x, v, g, lr, mu: x).status == "incorrect"  # not a pair


def test_schedule_check_rejects_zero_start_and_wrong_cosine():
    def starts_at_zero(step, total, warm, peak):
        if step < warm:
            return peak * step / warm
        return right_schedule(step, total, warm, peak)

    def cosine_from_zero(step, total, warm, peak):
        if step < warm:
            return peak * (step + 1) / warm
        return peak * (1 + math.cos(math.pi * step / total)) / 2

    assert "wasted" in ex.q4.evaluate(starts_at_zero).message
    assert ex.q4.evaluate(cosine_from_zero).status == "incorrect"
    assert ex.q4.evaluate(lambda *a: 0.3).status == "incorrect"
