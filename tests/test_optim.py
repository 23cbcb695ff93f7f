"""helpers.optim: surfaces, hand-written optimizers (equal to torch.optim), trajectories, plots, explorer, schedules."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers import optim  # noqa: E402
from helpers.train import History, fit  # noqa: E402


@pytest.mark.parametrize("surface", [optim.quadratic(), optim.rosenbrock(a=1.0, b=30.0)])
def test_analytic_gradients_equal_autograd(surface):
    for point in ([0.3, -0.7], [-1.2, 1.5]):
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        surface.f(p).backward()
        assert np.allclose(surface.grad(np.array(point)), p.grad.numpy())


def test_surfaces_have_their_minimum_where_they_say():
    for surface in (optim.quadratic(2.0, 5.0), optim.rosenbrock()):
        assert surface.f(np.array(surface.minimum)) == pytest.approx(0.0)
        assert np.allclose(surface.grad(np.array(surface.minimum)), 0.0)


def test_surface_f_accepts_a_grid():
    grid = np.zeros((4, 5, 2))
    assert optim.quadratic().f(grid).shape == (4, 5)
    assert optim.rosenbrock().f(grid).shape == (4, 5)


@pytest.mark.parametrize("name,lr", [("gd", 1e-3), ("momentum", 1e-3), ("nesterov", 1e-3), ("rmsprop", 1e-2), ("adam", 5e-2), ("adamw", 5e-2)])
def test_hand_written_optimizers_equal_torch_optim(name, lr):
    ours = optim.run_trajectory("rosenbrock", optim.make_optimizer(name, lr), steps=100)
    theirs = optim.run_torch_trajectory("rosenbrock", name, lr, steps=100)
    assert np.abs(ours.path - theirs.path).max() < 1e-10


def test_adam_weight_decay_equals_torch_l2():
    surface = optim.quadratic(1.0, 4.0)
    ours = optim.run_trajectory(surface, optim.Adam(lr=0.1, weight_decay=0.1), steps=30)
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, weight_decay=0.1)
    for _ in range(30):
        opt.zero_grad()
        surface.f(p).backward()
        opt.step()
    assert np.allclose(ours.path[-1], p.detach().numpy(), atol=1e-12)


def test_momentum_beats_gradient_descent_on_the_narrow_bowl():
    bowl = optim.quadratic(1.0, 20.0)
    gd = optim.run_trajectory(bowl, optim.make_optimizer("gd", 2 / 21), steps=300)
    hb = optim.run_trajectory(bowl, optim.make_optimizer("momentum", 4 / (1 + 20**0.5) ** 2, ((20**0.5 - 1) / (20**0.5 + 1)) ** 2), steps=300)
    target = 1e-6 * gd.losses[0]
    assert hb.steps_to(target) * 2 < gd.steps_to(target)


def test_trajectory_reports_divergence_and_stops():
    t = optim.run_trajectory("quadratic", optim.make_optimizer("gd", 0.11), steps=1000)
    assert t.diverged and len(t.losses) < 1000 and np.isfinite(t.losses).all()
    ok = optim.run_trajectory("quadratic", optim.make_optimizer("gd", 0.09), steps=50)
    assert not ok.diverged and ok.path.shape == (51, 2) and ok.losses.shape == (51,)
    assert ok.steps_to(-1.0) is None and ok.steps_to(1e9) == 0


def test_minibatch_gradient_full_batch_equals_exact_gradient_and_sgd_is_noisy():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 1.0, 64)
    y = 2 * x - 1 + rng.normal(0, 0.3, 64)
    surface = optim.least_squares(x, y)
    full = optim.minibatch_gradient(surface, 64, 64)
    assert full.steps_per_epoch == 1
    point = np.array([0.5, 0.5])
    assert np.allclose(full(point, 0), surface.grad(point))
    sgd = optim.minibatch_gradient(surface, 64, 1, seed=1)
    assert sgd.steps_per_epoch == 64
    t = optim.run_trajectory(surface, optim.make_optimizer("gd", 0.05), steps=5 * 64, grad_fn=sgd)
    assert t.final_loss < surface.f(np.array(surface.start)) / 10
    assert np.mean(np.diff(t.losses) > 0) > 0.2  # many steps go uphill
    assert np.allclose(surface.minimum, np.polyfit(x, y, 1), atol=1e-8)


def test_plots_return_figures():
    bowl = optim.quadratic()
    runs = [optim.run_trajectory(bowl, optim.make_optimizer(n, 0.05), 20) for n in ("gd", "adam")]
    fig = optim.plot_trajectories(bowl, runs, title="t")
    assert len(fig.axes) == 1
    assert optim.plot_losses(runs[0]) is not None
    frame = optim.draw_explorer_frame("rosenbrock", "adam", 0.1, 0.9, steps=20)
    assert len(frame.axes) == 2
    plt.close("all")


def test_explorer_builds_and_redraws():
    pytest.importorskip("ipywidgets")
    box = optim.optimizer_explorer(steps=20)
    box.controls["optimizer"].value = "nesterov"
    box.controls["lr"].value = 0.01
    box.controls["surface"].value = "rosenbrock"
    assert box.controls["optimizer"].value == "nesterov"
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.optimizer_explorer(optimizer="lion")
    plt.close("all")


def test_reach_target_records_first_epoch_and_can_stop():
    torch.manual_seed(0)
    X = torch.randn(200, 2)
    y = (X[:, 0] > 0).long()
    model = nn.Linear(2, 2)
    reach = optim.ReachTarget(0.9, stop=True)
    history = fit(model, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=0.05, epochs=50, callbacks=[reach], progress=False, device="cpu")
    assert reach.epoch is not None and reach.epoch == len(history)
    assert history.val_metric[reach.epoch - 1] >= 0.9
    assert reach.seconds == pytest.approx(sum(history.seconds))
    assert "reached" in history.stop_reason
    with pytest.raises(ValueError, match="validation"):
        optim.ReachTarget(0.5).on_epoch_end(History(), model)


@pytest.mark.parametrize("name", optim.SCHEDULES)
def test_schedules_start_end_and_peak(name):
    rates = optim.lr_curve(name, 200, lr=0.1)
    assert rates.shape == (200,) and rates.max() == pytest.approx(0.1, rel=1e-6)
    if name != "constant":
        assert rates[-1] < 0.01
    if name in ("warmup", "one-cycle"):
        assert rates[0] < 0.01 and rates.argmax() > 0


def test_make_scheduler_works_with_fit_per_batch():
    torch.manual_seed(0)
    X, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = optim.make_scheduler("cosine", opt, total_steps=4 * 2)
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=4, batch_size=32, scheduler=sched, scheduler_step="batch", progress=False, device="cpu")
    assert history.lr[-1] == pytest.approx(0.0, abs=1e-9)


# ----- bad input: clear errors --------------------------------------------


def test_bad_optimizer_names_and_hyperparameters():
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'.*expected one of"):
        optim.make_optimizer("sgdd", 0.1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.make_torch_optimizer("lion", [torch.zeros(1, requires_grad=True)], 0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.make_optimizer("adam", -0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.GradientDescent(0.0)
    with pytest.raises(ValueError, match="momentum must be >= 0 and < 1"):
        optim.make_optimizer("momentum", 0.1, momentum=1.0)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.make_optimizer("gd", "0.1")
    with pytest.raises(TypeError, match="betas must be a pair"):
        optim.Adam(betas=0.9)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.AdamW(weight_decay=-1)
    with pytest.raises(ValueError, match="lr must be"):
        optim.make_optimizer("gd", float("nan"))


def test_bad_surfaces_trajectories_and_schedules():
    with pytest.raises(ValueError, match="unknown surface"):
        optim.get_surface("himmelblau")
    with pytest.raises(ValueError, match="curvatures"):
        optim.quadratic(a=-1.0)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        optim.run_trajectory("quadratic", optim.make_optimizer("gd", 0.1), steps=0)
    with pytest.raises(ValueError, match="start must be a point"):
        optim.run_trajectory("quadratic", optim.make_optimizer("gd", 0.1), start=[1, 2, 3])
    with pytest.raises(TypeError, match="step"):
        optim.run_trajectory("quadratic", "adam")
    with pytest.raises(ValueError, match="same length"):
        optim.least_squares([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="batch_size"):
        optim.minibatch_gradient(optim.least_squares([1.0, 2.0], [1.0, 2.0]), 2, 3)
    with pytest.raises(TypeError, match="Trajectory"):
        optim.plot_trajectories("quadratic", [np.zeros((3, 2))])
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        optim.make_scheduler("linear", opt, 10)
    with pytest.raises(ValueError, match="total_steps"):
        optim.make_scheduler("cosine", opt, 1)
    with pytest.raises(ValueError, match="target"):
        optim.ReachTarget(-0.5)
    plt.close("all")


def test_lr_range_test_finds_a_rate_between_its_ends_and_stops_when_the_loss_explodes():
    torch.manual_seed(0)
    X = torch.randn(256, 5)
    y = (X[:, 0] > 0).long()
    model = nn.Linear(5, 2)
    sgd = torch.optim.SGD(model.parameters(), lr=1.0)
    result = optim.lr_range_test(model, sgd, (X, y), nn.CrossEntropyLoss(), lr_min=1e-4, lr_max=1e4, steps=80, batch_size=32)
    assert result.stopped_early and len(result.lrs) < 80
    assert np.all(np.diff(result.lrs) > 0) and result.lrs[0] == pytest.approx(1e-4)
    assert 1e-4 < result.lowest_lr < 1e4 and result.suggested_lr == pytest.approx(result.lowest_lr / 10)
    assert result.losses.min() < result.losses[0]
    with pytest.raises(ValueError):
        optim.lr_range_test(model, sgd, (X, y), nn.CrossEntropyLoss(), lr_min=1.0, lr_max=0.1)
