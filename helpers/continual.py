"""Chapter 11: continual learning, task after task, and how much a network forgets.

Everything is written from scratch (no Avalanche) so it reads top to bottom:

1. **Scenarios.** :func:`split_tasks` cuts a labelled data set into tasks with
   disjoint classes (Split digits: 0/1, 2/3, ..., 8/9). The same tasks are
   learnt in one of three scenarios (van de Ven, Tuytelaars & Tolias 2022):

   - ``"task"``:   the task identity is given at test time (a head per task:
     the logits of the other tasks' classes are masked out);
   - ``"domain"``: the output is "first or second class of its task"
     (2 outputs shared by all tasks; the inputs change from task to task);
   - ``"class"``:  one 10-way output; the model must tell all classes apart.

2. **Strategies** (:class:`Strategy`): ``"naive"`` fine-tuning, ``"ewc"``
   (a diagonal-Fisher penalty), ``"lwf"`` (distillation at temperature 2 on
   the old outputs), ``"replay"`` (a small memory per class, replayed in every
   batch) and ``"joint"`` (all tasks at once: the upper bound).
   :func:`train_sequentially` learns the tasks in order and returns the
   **accuracy matrix** ``R[i, j]``: accuracy on task ``j`` after training task ``i``.

3. **Measures** of an accuracy matrix: :func:`average_accuracy`,
   :func:`forgetting` and :func:`backward_transfer`.

A strategy changes the *loss* with terms that need the model's parameters, an
old copy of the model or a memory, so this module has its own small loop
instead of ``helpers.train.fit``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from helpers.data import load
from helpers.models import mlp

SCENARIOS = ("task", "domain", "class")
STRATEGIES = ("naive", "ewc", "lwf", "replay", "joint")
SPLIT_DIGITS_CLASSES = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
MASKED = -1e9  # the logit given to outputs that are not allowed (task-incremental heads)


# --------------------------------------------------------------------------
# 1. Tasks and scenarios
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One task: its classes and its train / validation / test tensors (``y`` holds the original labels)."""

    classes: tuple[int, ...]
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    def split(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        if which not in ("train", "val", "test"):
            raise ValueError(f"which must be 'train', 'val' or 'test', got {which!r}")
        return getattr(self, f"X_{which}"), getattr(self, f"y_{which}")


def split_tasks(splits: dict, task_classes) -> list[Task]:
    """Cut data into tasks with disjoint classes.

    ``splits`` maps ``"train"``, ``"val"``, ``"test"`` to pairs ``(X (n, d), y (n,))``
    (NumPy arrays or tensors, integer labels); ``task_classes`` is a sequence of
    class tuples, one per task, e.g. ``((0, 1), (2, 3))``. A class in two tasks,
    an empty task or a class absent from a split raises ``ValueError``.
    """
    if set(splits) != {"train", "val", "test"}:
        raise ValueError(f"splits needs exactly the keys 'train', 'val', 'test', got {sorted(splits)}")
    task_classes = [tuple(int(c) for c in classes) for classes in task_classes]
    if len(task_classes) < 1:
        raise ValueError("task_classes must name at least one task")
    seen: dict[int, int] = {}
    for index, classes in enumerate(task_classes):
        if not classes:
            raise ValueError(f"task {index} has no classes")
        for c in classes:
            if c in seen:
                raise ValueError(
                    f"class {c} is in task {seen[c]} and in task {index}: tasks must have disjoint classes "
                    "(a class that comes back is a different, 'blurry' protocol)"
                )
            seen[c] = index
    data = {}
    for which, (X, y) in splits.items():
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        y = torch.as_tensor(np.asarray(y), dtype=torch.long)
        if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(f"{which}: expected X of shape (n, d) and y of shape (n,), got {tuple(X.shape)}, {tuple(y.shape)}")
        data[which] = (X, y)
    tasks = []
    for classes in task_classes:
        parts = {}
        for which, (X, y) in data.items():
            keep = torch.isin(y, torch.tensor(classes))
            missing = [c for c in classes if not bool((y == c).any())]
            if missing:
                raise ValueError(f"class(es) {missing} of task {classes} have no examples in the {which} split")
            parts[f"X_{which}"], parts[f"y_{which}"] = X[keep], y[keep]
        tasks.append(Task(classes=classes, **parts))
    return tasks


def split_digits(seed: int = 0, task_classes=SPLIT_DIGITS_CLASSES) -> list[Task]:
    """Split digits: scikit-learn's 8x8 digits in tasks of two classes.

    The stratified train / validation / test split of ``helpers.data.load("digits", seed=seed)``
    (60 / 20 / 20 %) is cut by class, so each task has about 215 / 72 / 72 examples. Pixels are
    standardised with the statistics of the whole training split (a simplification: a learner
    that meets the tasks one by one would not know the later tasks' pixels in advance).
    """
    ds = load("digits", seed=seed)
    pixels = ds.train.X / 16.0
    mean, std = pixels.mean(axis=0), pixels.std(axis=0) + 0.1  # + 0.1: rare pixels do not blow up
    splits = {which: ((ds.split(which).X / 16.0 - mean) / std, ds.split(which).y) for which in ("train", "val", "test")}
    return split_tasks(splits, task_classes)


def check_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")


def n_outputs(tasks: list[Task], scenario: str) -> int:
    """How many outputs the network needs: one per class, or one per position in a task (domain)."""
    check_scenario(scenario)
    if scenario == "domain":
        sizes = {len(t.classes) for t in tasks}
        if len(sizes) != 1:
            raise ValueError(f"the domain scenario needs tasks of equal size, got sizes {sorted(sizes)}")
        return sizes.pop()
    return max(c for t in tasks for c in t.classes) + 1


def targets(task: Task, y: torch.Tensor, scenario: str) -> torch.Tensor:
    """The training targets of labels ``y`` (n,) in a scenario: the label, or its position in the task (domain)."""
    check_scenario(scenario)
    if scenario != "domain":
        return y
    position = torch.full_like(y, -1)
    for i, c in enumerate(task.classes):
        position[y == c] = i
    return position


def allowed_outputs(task: Task, scenario: str, n_out: int) -> torch.Tensor:
    """Boolean mask (n_out,) of the outputs a task may use: its own classes in ``"task"``, all otherwise."""
    check_scenario(scenario)
    mask = torch.ones(n_out, dtype=torch.bool)
    if scenario == "task":
        mask[:] = False
        mask[list(task.classes)] = True
    return mask


def masked_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Logits (n, k) with the outputs that ``mask`` ((k,) or (n, k)) forbids set very low."""
    return logits.masked_fill(~mask, MASKED)


@torch.no_grad()
def accuracy(model: nn.Module, task: Task, scenario: str, which: str = "test") -> float:
    """Accuracy of ``model`` on one task's ``which`` split, as the scenario scores it."""
    X, y = task.split(which)
    logits = model(X)
    mask = allowed_outputs(task, scenario, logits.shape[1])
    predicted = masked_logits(logits, mask).argmax(dim=1)
    return float((predicted == targets(task, y, scenario)).float().mean())


# --------------------------------------------------------------------------
# 2. Measures of an accuracy matrix R (n_tasks, n_tasks): R[i, j] = accuracy on task j after task i
# --------------------------------------------------------------------------


def _check_matrix(R) -> np.ndarray:
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
        raise ValueError(f"an accuracy matrix is square (n_tasks, n_tasks), got shape {R.shape}")
    return R


def average_accuracy(R) -> float:
    """Mean accuracy over all tasks after the last one: the mean of the last row of ``R``."""
    return float(np.mean(_check_matrix(R)[-1]))


def forgetting(R) -> float:
    """Average forgetting (Chaudhry et al. 2018): for each task but the last, its best accuracy
    before the end minus its final accuracy, averaged. 0 for a single task."""
    R = _check_matrix(R)
    if len(R) < 2:
        return 0.0
    return float(np.mean([R[:-1, j].max() - R[-1, j] for j in range(len(R) - 1)]))


def backward_transfer(R) -> float:
    """Backward transfer (Lopez-Paz & Ranzato 2017): mean over tasks but the last of
    ``R[-1, j] - R[j, j]``. Negative means forgetting; positive means later tasks helped."""
    R = _check_matrix(R)
    if len(R) < 2:
        return 0.0
    return float(np.mean([R[-1, j] - R[j, j] for j in range(len(R) - 1)]))


# --------------------------------------------------------------------------
# 3. Strategies
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Strategy:
    """How to learn a sequence of tasks.

    ``name``: one of :data:`STRATEGIES`. ``lr`` is the learning rate of SGD with momentum 0.9, ``epochs`` per task
    (``joint`` trains ``epochs`` epochs on all tasks at once: as many steps as the sequence).
    ``ewc_lambda``: EWC's strength; ``lwf_alpha``: weight of LwF's distillation loss at
    ``temperature``; ``memory_per_class``: replay examples kept per class.
    """

    name: str = "naive"
    lr: float = 0.02
    epochs: int = 10
    batch_size: int = 64
    ewc_lambda: float = 0.0
    lwf_alpha: float = 1.0
    temperature: float = 2.0
    memory_per_class: int = 10
    hidden: tuple[int, ...] = (100, 100)

    def __post_init__(self):
        if self.name not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.name!r}")
        if not (self.lr > 0 and self.epochs >= 1 and self.batch_size >= 1):
            raise ValueError(f"need lr > 0, epochs >= 1, batch_size >= 1, got {self.lr}, {self.epochs}, {self.batch_size}")
        if self.ewc_lambda < 0 or self.lwf_alpha < 0 or self.temperature <= 0:
            raise ValueError("ewc_lambda and lwf_alpha must be >= 0 and temperature > 0")
        if self.name == "replay" and self.memory_per_class < 1:
            raise ValueError(
                f"replay with memory_per_class={self.memory_per_class} has an empty memory: "
                "keep at least 1 example per class (with none, use the 'naive' strategy)"
            )

    def with_(self, **changes) -> "Strategy":
        """A copy with some fields changed, e.g. ``s.with_(lr=0.01)``."""
        return replace(self, **changes)


@dataclass
class ReplayMemory:
    """A few stored training examples per class, with the task each came from."""

    X: list = field(default_factory=list)
    y: list = field(default_factory=list)
    task_index: list = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(y) for y in self.y)

    def add(self, X: torch.Tensor, y: torch.Tensor, task_index: int, per_class: int, generator: torch.Generator) -> None:
        """Keep ``per_class`` random examples of each class in ``y`` (all of them if there are fewer)."""
        if per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {per_class}")
        for c in torch.unique(y):
            rows = torch.nonzero(y == c).flatten()
            chosen = rows[torch.randperm(len(rows), generator=generator)[:per_class]]
            self.X.append(X[chosen])
            self.y.append(y[chosen])
            self.task_index.append(torch.full((len(chosen),), task_index, dtype=torch.long))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """All stored examples: X (m, d), labels (m,), task indices (m,). Raises on an empty memory."""
        if len(self) == 0:
            raise ValueError("the replay memory is empty: add the examples of a finished task before replaying")
        return torch.cat(self.X), torch.cat(self.y), torch.cat(self.task_index)

    def nbytes(self) -> int:
        """Storage of the stored inputs and labels, in bytes."""
        return sum(x.numel() * x.element_size() + y.numel() * y.element_size() for x, y in zip(self.X, self.y))


def fisher_diagonal(model: nn.Module, X: torch.Tensor, mask: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The diagonal of the Fisher information of ``model`` on inputs ``X`` (n, d).

    ``F_i = E_x E_{c ~ p(c|x)} (d log p(c|x) / d theta_i)^2``: the expected squared gradient of the
    log-likelihood under the model's own predictions. We estimate the inner expectation with one
    label per example drawn from ``p(c|x)`` (unbiased, and one backward pass per example, done for
    all examples at once with ``torch.func.vmap``). ``mask`` (k,) limits the classes to the allowed
    outputs. Returns one tensor per named parameter, shaped like it.
    """
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty (n, d) tensor, got shape {tuple(X.shape)}")
    params = {k: v.detach() for k, v in model.named_parameters()}
    with torch.no_grad():
        logits = model(X)
    mask = torch.ones(logits.shape[1], dtype=torch.bool) if mask is None else mask
    probs = F.softmax(masked_logits(logits, mask), dim=1)
    labels = torch.multinomial(probs, 1, generator=generator).flatten()

    def log_likelihood(p, x, c):
        out = masked_logits(functional_call(model, p, (x[None],)), mask)
        return torch.gather(F.log_softmax(out, dim=1), 1, c.view(1, 1)).squeeze()

    grads = vmap(grad(log_likelihood), in_dims=(None, 0, 0))(params, X, labels)
    return {k: (g**2).mean(dim=0) for k, g in grads.items()}


def ewc_penalty(model: nn.Module, fisher: dict, anchor: dict) -> torch.Tensor:
    """EWC's penalty ``sum_i F_i (theta_i - anchor_i)^2 / 2`` (a scalar tensor).

    With one (weights theta*_k, Fisher F_k) pair per finished task, the sum of the tasks' penalties
    ``sum_k F_k (theta - theta*_k)^2 / 2`` equals, up to a constant, one penalty with
    ``F = sum_k F_k`` and ``anchor = sum_k F_k theta*_k / F`` (see :func:`merge_anchor`).
    """
    total = torch.zeros(())
    for name, p in model.named_parameters():
        total = total + (fisher[name] * (p - anchor[name]) ** 2).sum()
    return total / 2


def merge_anchor(fisher: dict | None, anchor: dict | None, new_fisher: dict, new_weights: dict):
    """Add one finished task's (Fisher, weights) to the summed Fisher and its Fisher-weighted anchor."""
    if fisher is None:
        return new_fisher, new_weights
    total = {k: fisher[k] + new_fisher[k] for k in fisher}
    merged = {k: (fisher[k] * anchor[k] + new_fisher[k] * new_weights[k]) / total[k].clamp_min(1e-30) for k in fisher}
    return total, merged


@torch.no_grad()
def ewc_proximal_step(model: nn.Module, fisher: dict, anchor: dict, step: float) -> None:
    """Apply EWC's penalty of strength ``step = lr * lambda`` as an implicit (proximal) step.

    A plain gradient step on ``lambda F (theta - anchor)^2 / 2`` overshoots, and SGD diverges, once
    ``lr * lambda * F > 2``; the implicit step ``theta <- (theta + step F anchor) / (1 + step F)``
    minimises the penalty plus ``(theta - theta_old)^2 / (2 lr)`` exactly, so it is stable for any
    lambda: as lambda grows, the weights that mattered to old tasks freeze at their anchor.
    """
    for name, p in model.named_parameters():
        shrink = step * fisher[name]
        p.mul_(1 / (1 + shrink)).add_(shrink * anchor[name] / (1 + shrink))


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, outputs: torch.Tensor,
                      temperature: float = 2.0) -> torch.Tensor:
    """LwF's loss: KL(teacher || student) on the old ``outputs`` (indices), both softened at ``temperature``,
    times ``temperature**2`` so its gradient keeps its scale (Hinton et al. 2015)."""
    s = F.log_softmax(student_logits[:, outputs] / temperature, dim=1)
    t = F.softmax(teacher_logits[:, outputs] / temperature, dim=1)
    return F.kl_div(s, t, reduction="batchmean") * temperature**2


def _batches(n: int, batch_size: int, generator: torch.Generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def _train_task(model, optimizer, X, y, mask, strategy, generator, *, ewc=None, teacher=None, old_outputs=None,
                memory=None, memory_masks=None, scenario="class", tasks=None):
    """One task's epochs of minibatch SGD (momentum 0.9, a fresh optimizer per task) with the strategy's extra loss terms."""
    if memory is not None:
        mem_X, mem_y, mem_task = memory.tensors()
        mem_targets = torch.cat([targets(tasks[int(t)], mem_y[mem_task == t], scenario) for t in torch.unique(mem_task)])
        order = torch.cat([torch.nonzero(mem_task == t).flatten() for t in torch.unique(mem_task)])
        mem_X, mem_task = mem_X[order], mem_task[order]
        mem_mask = memory_masks[mem_task]
    for _ in range(strategy.epochs):
        for idx in _batches(len(X), strategy.batch_size, generator):
            logits = model(X[idx])
            loss = F.cross_entropy(masked_logits(logits, mask), y[idx])
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(X[idx])
                loss = loss + strategy.lwf_alpha * distillation_loss(logits, teacher_logits, old_outputs,
                                                                     strategy.temperature)
            if memory is not None:
                pick = torch.randint(len(mem_X), (len(idx),), generator=generator)
                mem_logits = masked_logits(model(mem_X[pick]), mem_mask[pick])
                loss = loss + F.cross_entropy(mem_logits, mem_targets[pick])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if ewc is not None:
                ewc_proximal_step(model, *ewc, step=strategy.lr * strategy.ewc_lambda)


def train_sequentially(tasks: list[Task], scenario: str, strategy: Strategy, seed: int = 0,
                       evaluate_on=("val",), return_model: bool = False):
    """Learn ``tasks`` in order with ``strategy``; return ``{split: R}`` accuracy matrices.

    ``R[i, j]`` (n_tasks, n_tasks) is the accuracy on task ``j``'s ``split`` after training task ``i``.
    For ``"joint"`` only the last row is measured (all tasks are learnt at once); the other rows are NaN.
    With ``return_model=True`` returns ``(matrices, model, memory)``.
    """
    check_scenario(scenario)
    if not isinstance(strategy, Strategy):
        raise TypeError(f"strategy must be a Strategy, got {type(strategy).__name__}")
    if not tasks:
        raise ValueError("tasks is empty")
    for which in evaluate_on:
        if which not in ("train", "val", "test"):
            raise ValueError(f"evaluate_on holds 'train', 'val' or 'test', got {which!r}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    n_out = n_outputs(tasks, scenario)
    model = mlp(tasks[0].X_train.shape[1], list(strategy.hidden), n_out)
    T = len(tasks)
    matrices = {which: np.full((T, T), np.nan) for which in evaluate_on}
    masks = torch.stack([allowed_outputs(t, scenario, n_out) for t in tasks])

    def record(row):
        model.eval()
        for which in evaluate_on:
            matrices[which][row] = [accuracy(model, t, scenario, which) for t in tasks]
        model.train()

    if strategy.name == "joint":
        X = torch.cat([t.X_train for t in tasks])
        y = torch.cat([targets(t, t.y_train, scenario) for t in tasks])
        row_masks = torch.cat([masks[i].expand(len(t.y_train), -1) for i, t in enumerate(tasks)])
        optimizer = torch.optim.SGD(model.parameters(), lr=strategy.lr, momentum=0.9)
        for _ in range(strategy.epochs):
            for idx in _batches(len(X), strategy.batch_size, generator):
                loss = F.cross_entropy(masked_logits(model(X[idx]), row_masks[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        record(T - 1)
        return (matrices, model, None) if return_model else matrices

    ewc = (None, None)  # (summed Fisher, anchor weights) of the finished tasks
    memory = ReplayMemory() if strategy.name == "replay" else None
    teacher, old_outputs = None, None
    for i, task in enumerate(tasks):
        optimizer = torch.optim.SGD(model.parameters(), lr=strategy.lr, momentum=0.9)
        use_memory = memory if (memory is not None and len(memory) > 0) else None
        _train_task(model, optimizer, task.X_train, targets(task, task.y_train, scenario), masks[i], strategy,
                    generator, ewc=ewc if ewc[0] is not None else None, teacher=teacher, old_outputs=old_outputs, memory=use_memory,
                    memory_masks=masks, scenario=scenario, tasks=tasks)
        record(i)
        if strategy.name == "ewc":
            weights = {k: v.detach().clone() for k, v in model.named_parameters()}
            ewc = merge_anchor(*ewc, fisher_diagonal(model, task.X_train, masks[i], generator), weights)
        if strategy.name == "lwf":
            teacher = copy.deepcopy(model).eval()
            seen = masks[: i + 1].any(dim=0) if scenario != "domain" else torch.ones(n_out, dtype=torch.bool)
            old_outputs = torch.nonzero(seen).flatten()
        if memory is not None:
            memory.add(task.X_train, task.y_train, i, strategy.memory_per_class, generator)
    return (matrices, model, memory) if return_model else matrices


def summarize(R) -> dict:
    """Average accuracy, forgetting and backward transfer of one accuracy matrix (NaN rows: joint)."""
    R = np.asarray(R, dtype=float)
    if np.isnan(R[:-1]).all():
        return {"average accuracy": float(np.mean(R[-1])), "forgetting": float("nan"), "backward transfer": float("nan")}
    return {"average accuracy": average_accuracy(R), "forgetting": forgetting(R), "backward transfer": backward_transfer(R)}


def learning_accuracy(R) -> float:
    """Mean accuracy on each task just after learning it (the diagonal of ``R``): how well new tasks are learnt."""
    return float(np.mean(np.diag(_check_matrix(R))))


def tune(tasks: list[Task], scenario: str, strategy: Strategy, knob: str, grid, seed: int = 0,
         min_learning_accuracy: float = 0.9, tolerance: float = 0.01) -> dict:
    """Validation average accuracy of ``strategy`` for each value of ``knob`` in ``grid``.

    The best value maximises the average accuracy after the last task among the values that still
    *learn* each new task: mean diagonal accuracy (:func:`learning_accuracy`) at least
    ``min_learning_accuracy``. (Without that rule a tiny learning rate or a huge penalty "wins" by
    barely training on new tasks, so that there is less to forget.) Joint training has no diagonal
    and is not constrained. Returns ``{"knob", "grid", "scores", "learning", "eligible", "best",
    "best_index", "on_edge"}``; ``on_edge`` says whether the best value is the first or last of the
    grid *and* beats every eligible value inside the grid by more than ``tolerance`` (then widen the
    grid); a flat curve whose edge wins by less is a tie, not a sign that the optimum lies outside.
    """
    grid = list(grid)
    if len(grid) < 3:
        raise ValueError("a tuning grid needs at least 3 values, so that its best can be inside it")
    if not hasattr(strategy, knob):
        raise ValueError(f"Strategy has no field {knob!r}")
    scores, learning = [], []
    for value in grid:
        R = train_sequentially(tasks, scenario, strategy.with_(**{knob: value}), seed)["val"]
        scores.append(float(np.mean(R[-1])))
        learning.append(float("nan") if strategy.name == "joint" else learning_accuracy(R))
    eligible = [strategy.name == "joint" or l >= min_learning_accuracy for l in learning]
    candidates = [i for i in range(len(grid)) if eligible[i]] or list(range(len(grid)))
    best_index = max(candidates, key=lambda i: scores[i])
    inside = [scores[i] for i in candidates if 0 < i < len(grid) - 1]
    on_edge = best_index in (0, len(grid) - 1) and (not inside or scores[best_index] > max(inside) + tolerance)
    return {"knob": knob, "grid": grid, "scores": scores, "learning": learning, "eligible": eligible,
            "best": grid[best_index], "best_index": best_index, "on_edge": bool(on_edge)}
