"""Checks for the exercises of Chapter 11, "Continual and online learning".

Each checker builds its own inputs (or re-runs the experiment with ``helpers.continual``),
so it never depends on the notebook's state.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from helpers.exercises import Exercise, Incorrect, NotAttempted, call_answer, expect_callable

# --------------------------------------------------------------------------
# Exercise 1: predict, then run: does more training stop forgetting?
# --------------------------------------------------------------------------

_CHOICES = {"a": "it rises to 50% or more", "b": "it stays within 10 points", "c": "it falls below 10%"}


@lru_cache(maxsize=1)
def naive_accuracy_by_epochs() -> tuple[float, float]:
    """Class-incremental validation average accuracy of naive fine-tuning with 10 and 30 epochs per task."""
    from helpers.continual import Strategy, average_accuracy, split_digits, train_sequentially

    tasks = split_digits(seed=0)
    return tuple(
        average_accuracy(train_sequentially(tasks, "class", Strategy("naive", epochs=e), seed=0)["val"])
        for e in (10, 30)
    )


def _choice(answer, choices) -> str:
    if not isinstance(answer, str):
        raise Incorrect(f"answer with one letter as a string, one of {sorted(choices)}; got {type(answer).__name__}")
    letter = answer.strip().lower().strip("()")
    if letter not in choices:
        raise Incorrect(f"answer with one of the letters {sorted(choices)}, got {answer!r}")
    return letter


def _check_more_epochs(prediction) -> None:
    letter = _choice(prediction, _CHOICES)
    short, long = naive_accuracy_by_epochs()
    if long >= 0.5:
        truth = "a"
    elif abs(long - short) <= 0.10:
        truth = "b"
    else:
        truth = "c"
    if letter != truth:
        hints = {
            "a": "more epochs make the network fit each new task better, but nothing in the loss asks it "
                 "to keep the old classes",
            "c": "the last task is still learnt well, and it alone is a fifth of the average",
            "b": "look at what the longer run measures",
        }
        raise Incorrect(f"you predicted '{_CHOICES[letter]}'. {hints[letter]}; run the next cell to see")


# --------------------------------------------------------------------------
# Exercise 2: backward transfer from an accuracy matrix
# --------------------------------------------------------------------------


def _matrices():
    rng = np.random.default_rng(11)
    yield np.array([[0.9]])
    yield np.array([[0.99, 0.0], [0.40, 0.97]])
    yield np.tril(rng.uniform(0.5, 1.0, size=(4, 4)))
    yield rng.uniform(0.0, 1.0, size=(5, 5))


def _check_backward_transfer(my_backward_transfer) -> None:
    from helpers.continual import backward_transfer, forgetting

    expect_callable(my_backward_transfer, "a function my_backward_transfer(R)")
    for R in _matrices():
        result = call_answer(my_backward_transfer, R.copy())
        if result is None:
            raise NotAttempted("my_backward_transfer returns None: return a float")
        try:
            value = float(result)
        except (TypeError, ValueError):
            raise Incorrect(f"return one number (a float), got {type(result).__name__}") from None
        expected = backward_transfer(R)
        if np.isclose(value, expected, atol=1e-9):
            continue
        if len(R) == 1:
            raise Incorrect("with a single task there is no earlier task to forget: return 0.0")
        if np.isclose(value, -expected, atol=1e-9):
            raise Incorrect("your sign is reversed: backward transfer is final accuracy minus accuracy just after "
                            "learning the task, so forgetting makes it negative")
        if np.isclose(value, -forgetting(R), atol=1e-9):
            raise Incorrect("you compared with the *best* earlier accuracy (that is forgetting); backward transfer "
                            "compares with the accuracy right after the task was learnt, R[j, j]")
        if np.isclose(value, np.mean(R[-1] - np.diag(R)), atol=1e-9):
            raise Incorrect("leave out the last task: it has no 'later' to be affected by, so average over the "
                            "first T - 1 tasks only")
        raise Incorrect(f"for R =\n{np.round(R, 2)}\nyou return {value:.4f}; compare each task's final "
                        "accuracy with its accuracy just after it was learnt")


# --------------------------------------------------------------------------
# Exercise 3: diagnose an alarm threshold set on drifted data
# --------------------------------------------------------------------------

_DIAGNOSES = {
    "a": "50 images per window already move the input statistic far past its drift-free range; the window "
         "length is not what changed between the two set-ups",
    "b": "a higher false-alarm rate lowers the threshold a little, but the threshold is still computed from "
         "data that contain the drift, so half of the 'normal' windows are drifted ones",
    "d": "with a drift-free calibration the same statistic catches the shift within a window or two "
         "(section 7), so it does see it",
}


def _check_alarm_diagnosis(alarm_diagnosis) -> None:
    letter = _choice(alarm_diagnosis, {"a", "b", "c", "d"})
    if letter != "c":
        raise Incorrect(_DIAGNOSES[letter])


# --------------------------------------------------------------------------
# Exercise 4: the smallest replay memory that reaches 0.85
# --------------------------------------------------------------------------

MEMORY_GRID = (1, 2, 3, 5, 8, 13, 20)
TARGET = 0.85


@lru_cache(maxsize=None)
def replay_validation_accuracy(memory_per_class: int) -> float:
    """Class-incremental validation average accuracy of replay on Split digits (seed 0)."""
    from helpers.continual import Strategy, average_accuracy, split_digits, train_sequentially

    strategy = Strategy("replay", memory_per_class=memory_per_class)
    return average_accuracy(train_sequentially(split_digits(seed=0), "class", strategy, seed=0)["val"])


def _check_smallest_memory(smallest_memory) -> None:
    if isinstance(smallest_memory, bool) or not isinstance(smallest_memory, (int, np.integer)):
        raise Incorrect(f"give the number of images per class, an integer from {list(MEMORY_GRID)}")
    m = int(smallest_memory)
    if m not in MEMORY_GRID:
        raise Incorrect(f"{m} is not on the grid {list(MEMORY_GRID)}")
    accuracy = replay_validation_accuracy(m)
    if accuracy < TARGET:
        raise Incorrect(f"with {m} images per class the validation average accuracy is {accuracy:.3f}, "
                        f"below {TARGET}: try larger memories")
    index = MEMORY_GRID.index(m)
    if index > 0:
        smaller = MEMORY_GRID[index - 1]
        if replay_validation_accuracy(smaller) >= TARGET:
            raise Incorrect(f"{m} reaches the target, but so does a smaller memory on the grid: look for the "
                            "smallest one")


q1 = Exercise(
    "Exercise 1 (predict, then run: more epochs)",
    kind="predict",
    answer_name="more_epochs_prediction",
    checker=_check_more_epochs,
    hints=[
        "Look at the accuracy matrix of section 2: is the problem that the tasks are learnt badly, or that "
        "old ones are overwritten?",
        "Longer training fits each new task even more closely, and its loss still never mentions the old "
        "classes.",
    ],
    success="more training does not help: the loss of each task says nothing about the others.",
)

q2 = Exercise(
    "Exercise 2 (backward transfer)",
    kind="implement",
    answer_name="my_backward_transfer",
    checker=_check_backward_transfer,
    hints=[
        "For each task j except the last, compare the accuracy on j at the end (the last row) with the "
        "accuracy on j right after training j (the diagonal).",
        "Average the differences R[T-1, j] - R[j, j] over j = 0 .. T-2, and handle T = 1 separately.",
    ],
    success="your backward transfer matches helpers.continual.backward_transfer.",
)

q3 = Exercise(
    "Exercise 3 (diagnose an alarm)",
    kind="diagnose",
    answer_name="alarm_diagnosis",
    checker=_check_alarm_diagnosis,
    hints=[
        "What does a threshold learn from the data it is set on? Which data did the colleague use?",
        "An alarm threshold encodes 'normal'. Here half of the 'normal' windows are already shifted.",
    ],
    success="a threshold must come from data known to be drift-free.",
)

q4 = Exercise(
    "Exercise 4 (the smallest replay memory)",
    kind="experiment",
    answer_name="smallest_memory",
    checker=_check_smallest_memory,
    hints=[
        "Loop over the grid from the smallest memory; for each, train the sequence and compute the average "
        "accuracy of the validation matrix.",
        "train_sequentially with a replay Strategy of that memory returns the validation matrix under the "
        "key 'val'; stop at the first memory whose average accuracy reaches the target.",
    ],
    success="that is the smallest memory on the grid that reaches the target.",
)
