"""Chapter 5: optimizers written out by hand, on 2-D loss surfaces you can draw.

A loss with two parameters is a landscape: we can draw its contour lines and
the path an optimizer takes across them. This module has

- two test surfaces with their gradients: an ill-conditioned ``quadratic``
  bowl (a long narrow valley) and the ``rosenbrock`` banana valley; and
  ``least_squares``, the loss of a line fitted to data, whose gradient can be
  taken on a mini-batch (``minibatch_gradient``);
- the update rules of gradient descent, momentum, Nesterov, RMSProp, Adam
  and AdamW as small classes, written with the same conventions (and the same
  default hyper-parameters) as ``torch.optim``, so the two can be compared
  number for number;
- ``run_trajectory``: follow an optimizer from a starting point, returning
  the path and the loss at every step;
- ``plot_trajectories`` / ``plot_losses``: paths over contour lines, losses per step;
- ``optimizer_explorer``: an ipywidgets explorer (optimizer, learning rate,
  momentum) that redraws the path and the loss curve;
- ``ReachTarget``: a ``helpers.train`` callback that records the first epoch
  (and the seconds) at which validation accuracy reaches a target;
- ``make_scheduler`` / ``lr_curve``: the learning-rate schedules of the
  chapter (step, cosine, warm-up, one-cycle) as ``torch.optim.lr_scheduler``
  objects.

Every update rule works on a NumPy array (or a torch tensor) of parameters
``x`` and its gradient ``g`` of the same shape: ``x = opt.step(x, g)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from helpers.checks import check_choice, check_number, check_positive, check_positive_int
from helpers.train import Callback, History

# --------------------------------------------------------------------------
# 2-D test surfaces
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """A loss ``f(p)`` of two parameters ``p = (x, y)``, with its gradient.

    ``f`` and ``grad`` accept an array of shape (2,) (NumPy or torch); ``f``
    also accepts a grid of shape (..., 2) for contour plots. ``extent`` is
    the box ``(x_min, x_max, y_min, y_max)`` worth drawing, ``start`` the
    usual starting point and ``minimum`` where the loss is lowest.
    """

    name: str
    f: Callable
    grad: Callable
    start: tuple[float, float]
    minimum: tuple[float, float]
    extent: tuple[float, float, float, float]
    description: str = ""


def quadratic(a: float = 1.0, b: float = 20.0) -> Surface:
    """The bowl ``f(x, y) = (a x^2 + b y^2) / 2``: curvature ``a`` along x, ``b`` along y.

    Its condition number is ``max(a, b) / min(a, b)``: the larger it is, the
    narrower the valley. Gradient descent is stable for learning rates below
    ``2 / max(a, b)``.
    """
    if a <= 0 or b <= 0:
        raise ValueError(f"curvatures a and b must be positive, got a={a}, b={b}")

    def f(p):
        return 0.5 * (a * p[..., 0] ** 2 + b * p[..., 1] ** 2)

    def grad(p):
        return _stack_like(p, a * p[0], b * p[1])

    return Surface(
        name="quadratic",
        f=f,
        grad=grad,
        start=(-4.0, 1.5),
        minimum=(0.0, 0.0),
        extent=(-4.5, 4.5, -2.0, 2.0),
        description=f"ill-conditioned bowl (a={a:g}, b={b:g}, condition number {max(a, b) / min(a, b):g})",
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's banana ``f(x, y) = (a - x)^2 + b (y - x^2)^2``, lowest (0) at ``(a, a^2)``.

    The valley floor is easy to find and slow to follow: a classic test of
    optimizers since Rosenbrock (1960).
    """
    if b <= 0:
        raise ValueError(f"b must be positive, got {b}")

    def f(p):
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = p[0], p[1]
        return _stack_like(p, -2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2))

    return Surface(
        name="rosenbrock",
        f=f,
        grad=grad,
        start=(-1.5, 2.0),
        minimum=(a, a**2),
        extent=(-2.0, 2.0, -1.0, 3.0),
        description=f"Rosenbrock's banana valley (a={a:g}, b={b:g})",
    )


def least_squares(inputs, targets) -> Surface:
    """The loss of a line fitted to data: ``f(w, b) = mean((w * x_i + b - y_i)^2) / 2``.

    ``inputs`` and ``targets`` are 1-D arrays (n,). The two parameters are
    the slope ``w`` and the intercept ``b``; ``grad(p, idx)`` is the gradient
    on the samples ``idx`` only (a mini-batch), on all of them by default.
    """
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape or len(x) < 2:
        raise ValueError(f"inputs and targets must be 1-D arrays of the same length >= 2, got shapes {x.shape} and {y.shape}")
    design = np.stack([x, np.ones_like(x)], axis=1)
    best = np.linalg.lstsq(design, y, rcond=None)[0]

    def f(p):
        residual = p[..., 0, None] * x + p[..., 1, None] - y
        return 0.5 * (residual**2).mean(axis=-1)

    def grad(p, idx=None):
        xs, ys = (x, y) if idx is None else (x[idx], y[idx])
        residual = p[0] * xs + p[1] - ys
        return _stack_like(p, (residual * xs).mean(), residual.mean())

    w, b = float(best[0]), float(best[1])
    return Surface(
        name="least squares",
        f=f,
        grad=grad,
        start=(w - 3.0, b + 3.0),
        minimum=(w, b),
        extent=(w - 3.5, w + 1.5, b - 2.0, b + 3.5),
        description=f"mean squared error of a line through {len(x)} points",
    )


def minibatch_gradient(surface: Surface, n_samples: int, batch_size: int, seed: int = 0) -> Callable:
    """A ``grad_fn(x, step)`` for :func:`run_trajectory` that uses one mini-batch per step.

    Each epoch visits the ``n_samples`` samples once, in a new random order,
    ``batch_size`` at a time: ``batch_size = n_samples`` is full-batch
    gradient descent, ``batch_size = 1`` is stochastic gradient descent.
    """
    if check_positive_int(batch_size, "batch_size") > n_samples:
        raise ValueError(f"batch_size must be an integer between 1 and n_samples={n_samples}, got {batch_size!r}")
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(n_samples / batch_size)
    order = rng.permutation(n_samples)

    def grad_fn(x, step):
        nonlocal order
        position = step % per_epoch
        if position == 0 and step > 0:
            order = rng.permutation(n_samples)
        return surface.grad(x, order[position * batch_size : (position + 1) * batch_size])

    grad_fn.steps_per_epoch = per_epoch
    return grad_fn


SURFACES: dict[str, Callable[[], Surface]] = {"quadratic": quadratic, "rosenbrock": rosenbrock}


def get_surface(surface: str | Surface) -> Surface:
    """A :class:`Surface` by name (``"quadratic"``, ``"rosenbrock"``), or the surface itself."""
    if isinstance(surface, Surface):
        return surface
    if not isinstance(surface, str) or surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}: expected one of {', '.join(SURFACES)} or a Surface")
    return SURFACES[surface]()


def _stack_like(p, gx, gy):
    if isinstance(p, torch.Tensor):
        return torch.stack([gx, gy])
    return np.array([gx, gy], dtype=np.float64)


# --------------------------------------------------------------------------
# Update rules (torch.optim's conventions, so the numbers match)
# --------------------------------------------------------------------------


class GradientDescent:
    """Plain gradient descent: ``x <- x - lr * g`` (``torch.optim.SGD`` without momentum)."""

    name = "gd"

    def __init__(self, lr: float = 0.01):
        self.lr = check_positive(lr, "lr")

    def step(self, x, g):
        return x - self.lr * g


class Momentum:
    """Heavy-ball momentum (Polyak 1964), as ``torch.optim.SGD(momentum=...)`` writes it.

    ``v <- momentum * v + g``;  ``x <- x - lr * v``. The velocity ``v``
    remembers past gradients: steps grow along a consistent direction and
    oscillations across a valley cancel out.
    """

    name = "momentum"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        self.lr = check_positive(lr, "lr")
        self.momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        self.v = None

    def step(self, x, g):
        self.v = g if self.v is None else self.momentum * self.v + g
        return x - self.lr * self.v


class Nesterov(Momentum):
    """Nesterov momentum in ``torch.optim.SGD(nesterov=True)``'s form (Sutskever et al. 2013).

    ``v <- momentum * v + g``;  ``x <- x - lr * (g + momentum * v)``: the
    step looks one velocity ahead, which damps overshooting.
    """

    name = "nesterov"

    def step(self, x, g):
        self.v = g if self.v is None else self.momentum * self.v + g
        return x - self.lr * (g + self.momentum * self.v)


class RMSProp:
    """RMSProp (Tieleman & Hinton 2012), as ``torch.optim.RMSprop``.

    ``s <- alpha * s + (1 - alpha) * g^2``;  ``x <- x - lr * g / (sqrt(s) + eps)``:
    each coordinate's step is divided by the recent size of its gradient, so
    steep and flat directions move at similar speeds.
    """

    name = "rmsprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8):
        self.lr = check_positive(lr, "lr")
        self.alpha = check_number(alpha, "alpha", low=0.0, high=1.0, high_open=True)
        self.eps = check_positive(eps, "eps")
        self.s = None

    def step(self, x, g):
        self.s = (1 - self.alpha) * g**2 if self.s is None else self.alpha * self.s + (1 - self.alpha) * g**2
        return x - self.lr * g / (self.s**0.5 + self.eps)


class Adam:
    """Adam (Kingma & Ba 2015), as ``torch.optim.Adam``: momentum plus RMSProp, bias-corrected.

    ``m <- b1 m + (1 - b1) g``;  ``s <- b2 s + (1 - b2) g^2``;
    ``x <- x - lr * (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)``.
    ``weight_decay`` adds ``weight_decay * x`` to the gradient (an L2 penalty),
    which is what ``torch.optim.Adam(weight_decay=...)`` does.
    """

    name = "adam"

    def __init__(self, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        self.lr = check_positive(lr, "lr")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = check_number(betas[0], "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = check_number(betas[1], "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
        self.m = self.s = None
        self.t = 0

    def _adam_direction(self, g):
        self.t += 1
        first = (1 - self.beta1) * g
        second = (1 - self.beta2) * g**2
        self.m = first if self.m is None else self.beta1 * self.m + first
        self.s = second if self.s is None else self.beta2 * self.s + second
        m_hat = self.m / (1 - self.beta1**self.t)
        s_hat = self.s / (1 - self.beta2**self.t)
        return m_hat / (s_hat**0.5 + self.eps)

    def step(self, x, g):
        if self.weight_decay:
            g = g + self.weight_decay * x
        return x - self.lr * self._adam_direction(g)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``: weight decay *decoupled*.

    First shrink the weights, ``x <- x * (1 - lr * weight_decay)``, then take
    Adam's step with the plain gradient. Unlike L2 in Adam, the decay is not
    divided by ``sqrt(s)``, so every weight decays at the same rate.
    """

    name = "adamw"

    def __init__(self, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def step(self, x, g):
        x = x * (1 - self.lr * self.weight_decay)
        return x - self.lr * self._adam_direction(g)


OPTIMIZERS = {cls.name: cls for cls in (GradientDescent, Momentum, Nesterov, RMSProp, Adam, AdamW)}


def make_optimizer(name: str, lr: float, momentum: float = 0.9, weight_decay: float | None = None):
    """A from-scratch optimizer by name: ``"gd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``.

    ``momentum`` is the momentum of ``"momentum"``/``"nesterov"`` and Adam's
    ``beta1`` (its momentum) for ``"adam"``/``"adamw"``; ``"gd"`` and
    ``"rmsprop"`` ignore it. ``weight_decay`` applies to Adam and AdamW
    (default 0 and 0.01, as in torch).
    """
    name = check_choice(name, "optimizer", OPTIMIZERS)
    lr = check_positive(lr, "lr")
    momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if name == "gd":
        return GradientDescent(lr)
    if name in ("momentum", "nesterov"):
        return OPTIMIZERS[name](lr, momentum)
    if name == "rmsprop":
        return RMSProp(lr)
    extra = {} if weight_decay is None else {"weight_decay": weight_decay}
    return OPTIMIZERS[name](lr, betas=(momentum, 0.999), **extra)


def make_torch_optimizer(name: str, params, lr: float, momentum: float = 0.9, weight_decay: float | None = None) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer that :func:`make_optimizer` ``(name, ...)`` writes out by hand."""
    name = check_choice(name, "optimizer", OPTIMIZERS)
    lr = check_positive(lr, "lr")
    momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if name == "gd":
        return torch.optim.SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    extra = {} if weight_decay is None else {"weight_decay": weight_decay}
    return cls(params, lr=lr, betas=(momentum, 0.999), **extra)


# --------------------------------------------------------------------------
# Trajectories
# --------------------------------------------------------------------------


@dataclass
class Trajectory:
    """Where an optimizer went: ``path`` (steps + 1, 2) and ``losses`` (steps + 1,).

    ``diverged`` is True when the run stopped because the loss or the
    parameters blew up (non-finite, or the loss above ``1e6`` times its start).
    """

    label: str
    path: np.ndarray
    losses: np.ndarray
    diverged: bool = False

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def steps_to(self, threshold: float) -> int | None:
        """The first step at which the loss is below ``threshold`` (None if never)."""
        below = np.flatnonzero(self.losses < threshold)
        return int(below[0]) if len(below) else None


def run_trajectory(
    surface: str | Surface,
    optimizer,
    steps: int = 100,
    start=None,
    grad_fn: Callable | None = None,
    label: str | None = None,
) -> Trajectory:
    """Follow ``optimizer`` (an object with ``step(x, g)``) on ``surface`` for ``steps`` steps.

    ``grad_fn(x, step)`` replaces the exact gradient (e.g. a noisy, mini-batch
    one); the loss recorded is always the exact ``surface.f``.
    """
    surface = get_surface(surface)
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(x, g) method (e.g. make_optimizer('adam', 0.1)), got {type(optimizer).__name__}")
    check_positive_int(steps, "steps")
    x = np.array(surface.start if start is None else start, dtype=np.float64)
    if x.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {x.shape}")
    path, losses = [x.copy()], [float(surface.f(x))]
    limit = 1e6 * max(losses[0], 1.0)
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(int(steps)):
            g = surface.grad(x) if grad_fn is None else np.asarray(grad_fn(x, step), dtype=np.float64)
            x = np.asarray(optimizer.step(x, g), dtype=np.float64)
            loss = float(surface.f(x))
            if not (np.isfinite(x).all() and math.isfinite(loss)) or loss > limit:
                diverged = True
                break
            path.append(x.copy())
            losses.append(loss)
    return Trajectory(label or getattr(optimizer, "name", "optimizer"), np.array(path), np.array(losses), diverged)


def run_torch_trajectory(surface: str | Surface, optimizer_name: str, lr: float, steps: int = 100, momentum: float = 0.9, start=None) -> Trajectory:
    """The same walk as :func:`run_trajectory`, but with a ``torch.optim`` optimizer and autograd.

    Runs in float64 so that it can be compared with the NumPy version to
    about 1e-12.
    """
    surface = get_surface(surface)
    p = torch.tensor(surface.start if start is None else start, dtype=torch.float64, requires_grad=True)
    opt = make_torch_optimizer(optimizer_name, [p], lr=lr, momentum=momentum)
    path, losses = [p.detach().numpy().copy()], [float(surface.f(p.detach()))]
    for _ in range(steps):
        opt.zero_grad()
        loss = surface.f(p)
        loss.backward()
        opt.step()
        path.append(p.detach().numpy().copy())
        losses.append(float(surface.f(p.detach())))
    return Trajectory(f"torch.optim {optimizer_name}", np.array(path), np.array(losses))


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------


def plot_trajectories(surface: str | Surface, trajectories, ax=None, title: str | None = None, resolution: int = 200, legend: bool = True):
    """Contour lines of ``surface`` (log-spaced) with each trajectory's path drawn over them.

    ``trajectories`` is a :class:`Trajectory` or a list of them. Returns the figure.
    """
    import matplotlib.pyplot as plt

    surface = get_surface(surface)
    if isinstance(trajectories, Trajectory):
        trajectories = [trajectories]
    trajectories = list(trajectories)
    for t in trajectories:
        if not isinstance(t, Trajectory):
            raise TypeError(f"expected Trajectory objects (from run_trajectory), got {type(t).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.4))
    x0, x1, y0, y1 = surface.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    z = surface.f(np.stack([gx, gy], axis=-1))
    levels = np.geomspace(max(z.min(), 1e-3), z.max(), 12)
    ax.contour(gx, gy, z, levels=levels, colors="#b0b0b0", linewidths=0.6, antialiased=False)  # plain lines keep PNGs small
    ax.plot(*surface.minimum, marker="*", color="black", markersize=10, linestyle="none")
    for t in trajectories:
        marker = "." if len(t.path) <= 80 else None  # dots show the steps; long paths get a plain line
        line, = ax.plot(t.path[:, 0], t.path[:, 1], marker=marker, markersize=3, linewidth=1.0, label=t.label + (" (diverged)" if t.diverged else ""))
        ax.plot(*t.path[0], marker="o", color=line.get_color(), markersize=4)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.grid(False)
    if legend and trajectories:
        ax.legend(fontsize="small", loc="upper right")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_losses(trajectories, ax=None, title: str | None = None):
    """Loss per step of each trajectory, on a log scale. Returns the figure."""
    import matplotlib.pyplot as plt

    if isinstance(trajectories, Trajectory):
        trajectories = [trajectories]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.0, 3.4))
    for t in trajectories:
        if not isinstance(t, Trajectory):
            raise TypeError(f"expected Trajectory objects (from run_trajectory), got {type(t).__name__}")
        ax.plot(np.arange(len(t.losses)), np.maximum(t.losses, 1e-12), label=t.label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    return ax.figure


def draw_explorer_frame(surface: str | Surface = "quadratic", optimizer: str = "momentum", lr: float = 0.05, momentum: float = 0.9, steps: int = 100):
    """One frame of the explorer: the path over the contours, and the loss per step."""
    import matplotlib.pyplot as plt

    surface = get_surface(surface)
    trajectory = run_trajectory(surface, make_optimizer(optimizer, lr, momentum), steps=steps)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.0), gridspec_kw={"width_ratios": [1.4, 1]})
    plot_trajectories(surface, trajectory, ax=left, legend=False)
    plot_losses(trajectory, ax=right)
    status = "diverged" if trajectory.diverged else f"final loss {trajectory.final_loss:.2e}"
    fig.suptitle(f"{optimizer}, lr={lr:g}" + (f", momentum={momentum:g}" if optimizer not in ("gd", "rmsprop") else "") + f": {status}")
    fig.tight_layout()
    return fig


def optimizer_explorer(surface: str = "quadratic", optimizer: str = "momentum", lr: float = 0.05, momentum: float = 0.9, steps: int = 100):
    """An ipywidgets explorer: pick the surface, optimizer, learning rate and momentum; the plots redraw.

    Returns the widget (display it, or leave it as the last line of a cell).
    It needs a running kernel: on a static page the sliders do nothing.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    get_surface(surface)
    make_optimizer(optimizer, lr, momentum)  # validate the starting values early
    style = {"description_width": "initial"}
    controls = {
        "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface", style=style),
        "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer", style=style),
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.05, description="learning rate", readout_format=".2g", style=style, continuous_update=False),
        "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum / β1", style=style, continuous_update=False),
        "steps": widgets.IntSlider(value=steps, min=10, max=500, step=10, description="steps", style=style, continuous_update=False),
    }
    out = widgets.Output()

    def redraw(**values):
        with out:
            out.clear_output(wait=True)
            fig = draw_explorer_frame(**values)
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(lambda _change: redraw(**{k: c.value for k, c in controls.items()}), names="value")
    redraw(**{k: c.value for k, c in controls.items()})
    box = widgets.VBox([widgets.HBox([controls["surface"], controls["optimizer"]]), widgets.HBox([controls["lr"], controls["momentum"], controls["steps"]]), out])
    box.controls = controls  # so code (and tests) can move the sliders
    return box


# --------------------------------------------------------------------------
# Training a network: a callback and learning-rate schedules
# --------------------------------------------------------------------------


class ReachTarget(Callback):
    """Record the first epoch at which ``history.val_metric`` reaches ``target``.

    After ``fit``, ``epoch`` is that epoch (None if never reached) and
    ``seconds`` the training time spent until then. With ``stop=True`` it
    also stops training there.
    """

    def __init__(self, target: float, stop: bool = False):
        self.target = check_number(target, "target", low=0.0)
        self.stop = bool(stop)
        self.epoch: int | None = None
        self.seconds: float | None = None

    def on_train_begin(self, model):
        self.epoch = self.seconds = None

    def on_epoch_end(self, history: History, model) -> bool:
        if not history.val_metric:
            raise ValueError("ReachTarget needs validation data and a metric: call fit(..., val=(X, y), metric='accuracy')")
        if self.epoch is None and history.val_metric[-1] >= self.target:
            self.epoch = history.epoch[-1]
            self.seconds = float(sum(history.seconds))
            if self.stop:
                self.stop_reason = f"reached validation {history.metric_name} {self.target:g} at epoch {self.epoch}"
                return True
        return False


SCHEDULES = ("constant", "step", "cosine", "warmup", "one-cycle")


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float = 0.1):
    """A learning-rate schedule over ``total_steps`` optimizer steps (step it every batch).

    - ``"constant"``: the optimizer's learning rate throughout;
    - ``"step"``: divided by 10 after 50% and again after 75% of the steps;
    - ``"cosine"``: from the learning rate down to 0 along half a cosine (Loshchilov & Hutter 2017);
    - ``"warmup"``: linear warm-up from 1% over ``warmup_fraction`` of the steps (Goyal et al. 2017), then cosine;
    - ``"one-cycle"``: from 1/25 of the learning rate up to it (at 30% of the steps) and down
      to almost 0 (Smith & Topin 2019), with ``torch.optim.lr_scheduler.OneCycleLR``;
      momentum is left alone, so that only the learning rate differs between schedules.

    The optimizer's learning rate when you call this is the peak.
    """
    from torch.optim import lr_scheduler

    check_choice(name, "schedule", SCHEDULES)
    check_positive_int(total_steps, "total_steps", minimum=2)
    if not 0 < warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be between 0 and 1, got {warmup_fraction}")
    total_steps = int(total_steps)
    if name == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if name == "step":
        return lr_scheduler.MultiStepLR(optimizer, milestones=[total_steps // 2, (3 * total_steps) // 4], gamma=0.1)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "warmup":
        warm = max(1, int(round(warmup_fraction * total_steps)))
        return lr_scheduler.SequentialLR(
            optimizer,
            [lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warm), lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warm)],
            milestones=[warm],
        )
    peak = optimizer.param_groups[0]["lr"]
    return lr_scheduler.OneCycleLR(optimizer, max_lr=peak, total_steps=total_steps, cycle_momentum=False)


def lr_curve(name: str, total_steps: int, lr: float = 1.0, **kwargs) -> np.ndarray:
    """The learning rate at each of ``total_steps`` steps under schedule ``name`` (for plots)."""
    lr = check_positive(lr, "lr")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(name, optimizer, total_steps, **kwargs)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


# --------------------------------------------------------------------------
# The learning-rate range test (Smith 2017)
# --------------------------------------------------------------------------


@dataclass
class RangeTest:
    """What :func:`lr_range_test` saw: the learning rate and the smoothed training loss at each step.

    ``lowest_lr`` is the rate at which the smoothed loss was lowest;
    ``suggested_lr`` is a tenth of it, the usual rule of thumb for picking a
    constant learning rate from the curve (a heuristic, not a theorem).
    """

    lrs: np.ndarray
    losses: np.ndarray
    stopped_early: bool

    @property
    def lowest_lr(self) -> float:
        return float(self.lrs[int(np.argmin(self.losses))])

    @property
    def suggested_lr(self) -> float:
        return self.lowest_lr / 10


def lr_range_test(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train,
    loss_fn: Callable,
    lr_min: float = 1e-5,
    lr_max: float = 10.0,
    steps: int = 100,
    batch_size: int = 64,
    smoothing: float = 0.9,
    seed: int = 0,
) -> RangeTest:
    """Train ``model`` for ``steps`` mini-batches while the learning rate grows exponentially.

    The rate goes from ``lr_min`` to ``lr_max`` in equal ratios per step (Smith
    2017, "Cyclical learning rates"); the training loss of each batch is
    smoothed with an exponential moving average (bias-corrected). The test
    stops early once the smoothed loss exceeds 4 times its lowest value, or is
    no longer finite. It changes ``model`` and ``optimizer``: give it fresh ones.
    """
    lr_min, lr_max = check_positive(lr_min, "lr_min"), check_positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must be larger than lr_min, got {lr_min} and {lr_max}")
    steps = check_positive_int(steps, "steps", minimum=2)
    smoothing = check_number(smoothing, "smoothing", low=0.0, high=1.0, high_open=True)
    X, y = (torch.as_tensor(v) for v in train)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(int(seed))
    lrs = np.geomspace(lr_min, lr_max, steps)
    seen_lrs, losses = [], []
    average, lowest, stopped = 0.0, math.inf, False
    model.train()
    order = torch.randperm(len(X), generator=generator)
    position = 0
    for step, lr in enumerate(lrs):
        if position + batch_size > len(X):
            order, position = torch.randperm(len(X), generator=generator), 0
        idx = order[position : position + batch_size]
        position += batch_size
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx].to(device)), y[idx].to(device))
        loss.backward()
        optimizer.step()
        average = smoothing * average + (1 - smoothing) * loss.item()
        smoothed = average / (1 - smoothing ** (step + 1))
        if not math.isfinite(smoothed):
            stopped = True
            break
        seen_lrs.append(float(lr))
        losses.append(smoothed)
        lowest = min(lowest, smoothed)
        if smoothed > 4 * lowest:
            stopped = True
            break
    return RangeTest(np.array(seen_lrs), np.array(losses), stopped)
