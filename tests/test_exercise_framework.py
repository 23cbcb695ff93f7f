"""helpers.exercises: check / hint / solution behave as the learner expects."""

import pytest

from helpers.exercises import Exercise, Incorrect, call_answer, expect_close


def _square_checker(answer):
    value = call_answer(answer, 3)
    expect_close(value, 9, what="square(3)")


square = Exercise("Exercise 0 (square)", "square", _square_checker, hints=["Multiply.", "x * x"])


def test_correct_incorrect_and_not_attempted():
    assert square.evaluate(lambda x: x * x).correct
    assert square.evaluate(lambda x: x + x).status == "incorrect"
    assert square.evaluate(None).status == "not attempted"
    assert square.evaluate(lambda x: None).status == "not attempted"


def test_incorrect_message_does_not_reveal_the_answer():
    message = square.evaluate(lambda x: x + x).message
    assert "9" not in message


def test_a_function_that_raises_gets_feedback_naming_the_error():
    def broken(x):
        return x / 0

    result = square.evaluate(broken)
    assert result.status == "incorrect" and "ZeroDivisionError" in result.message


def test_check_without_argument_looks_up_the_answer_in_the_callers_globals(capsys):
    globals().pop("square_answer_missing", None)
    exercise = Exercise("E", "square_answer_missing", _square_checker, hints=["h"])
    exercise.check()
    assert "not attempted" in capsys.readouterr().out.lower()
    globals()["square_answer_missing"] = lambda x: x * x
    try:
        exercise.check()
        assert "✓ correct" in capsys.readouterr().out.lower()
    finally:
        del globals()["square_answer_missing"]


def test_grading_mode_turns_a_wrong_answer_into_a_failed_assertion(monkeypatch):
    monkeypatch.setenv("HELPERS_GRADING", "1")
    with pytest.raises(AssertionError):
        square.check(lambda x: x + x)
    square.check(lambda x: x * x)  # a right answer passes silently on to the next cell


def test_hints_and_solution(capsys):
    assert square.hint() == "Exercise 0 (square), hint 1/2: Multiply."
    assert "x * x" in square.hint(2)
    with pytest.raises(ValueError, match="hints 1 to 2"):
        square.hint(3)


def test_solution_comes_from_the_generated_file_and_is_refused_while_grading(monkeypatch, capsys):
    from helpers.exercises import ch01_training_loop as ch01
    from helpers.exercises import solutions

    assert ch01.q1.chapter == "01_training_loop"
    reference = solutions.lookup("01_training_loop", ch01.q1.answer_name)
    assert ch01.q1.solution() == reference
    monkeypatch.setenv("HELPERS_GRADING", "1")
    assert "switched off while grading" in ch01.q1.solution()
    assert reference not in capsys.readouterr().out.split("switched off")[-1]


def test_a_missing_solution_says_how_to_regenerate_the_file():
    with pytest.raises(LookupError, match="python -m helpers.exercises.solutions"):
        square.solution()


def test_an_exercise_needs_hints():
    with pytest.raises(ValueError):
        Exercise("E", "x", _square_checker, hints=[])


def test_checkers_can_raise_incorrect_with_their_own_message():
    def checker(answer):
        raise Incorrect("use a loop")

    assert Exercise("E", "x", checker, ["h"]).evaluate(1).message == "use a loop"
