"""Tests of the core of the dodl library (chapter 3 of Doing Deep Learning).

The library is generated from the book: run `octavo build lib` (or a full
build) before these tests, so that `from dodl import torch as dodl` finds
the current code.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from dodl import torch as dodl


def make_data(num_train=500, num_val=100, batch_size=10, seed=0):
    return dodl.SyntheticRegressionData(
        w=[1.6, -2.3, 0.5], b=0.9, noise=0.01, num_train=num_train,
        num_val=num_val, batch_size=batch_size, seed=seed)


def global_grad_norm(model):
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.sqrt(sum((g ** 2).sum() for g in grads)).item()


# --- training ---------------------------------------------------------------

@pytest.mark.parametrize("make_model", [
    lambda: dodl.LinearRegressionScratch(num_inputs=3, lr=0.03),
    lambda: dodl.LinearRegression(lr=0.03),
], ids=["scratch", "concise"])
def test_trainer_reduces_loss(make_model):
    torch.manual_seed(0)
    model = make_model()
    history = dodl.Trainer(max_epochs=4, device="cpu").fit(model, make_data())
    val = history["val_loss"]
    assert val[-1] < val[0] / 10
    assert val[-1] < 0.01
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_trained_weights_are_close_to_the_truth():
    torch.manual_seed(0)
    data = make_data(num_train=1000)
    model = dodl.LinearRegression(lr=0.03)
    dodl.Trainer(max_epochs=3, device="cpu").fit(model, data)
    w, b = model.get_w_b()
    assert w.shape == (1, 3) and b.shape == (1,)
    assert torch.allclose(w.reshape(-1), data.w, atol=0.05)
    assert abs(b.item() - data.b) < 0.05


def test_history_records_one_value_per_epoch():
    torch.manual_seed(0)
    trainer = dodl.Trainer(max_epochs=5, device="cpu")
    history = trainer.fit(dodl.LinearRegressionScratch(3, lr=0.03), make_data())
    assert history is trainer.history
    assert set(history.keys()) == {"train_loss", "val_loss"}
    assert len(history) == 5
    for key in history.keys():
        assert len(history[key]) == 5
        assert all(isinstance(v, float) for v in history[key])
    text = repr(history)
    assert text.startswith("History of 5 epochs")
    assert len(text.splitlines()) == 2 + 5  # title, header, one row per epoch


def test_history_repr_shortens_long_runs():
    history = dodl.History()
    for i in range(30):
        history.append({"train_loss": 1.0 / (i + 1)})
    lines = repr(history).splitlines()
    assert "..." in repr(history)
    assert len(lines) < 15
    assert lines[-1].split()[0] == "30"


def test_validation_metrics_are_prefixed_and_weighted_by_batch_size():
    class Constant(dodl.Module):
        def __init__(self):
            super().__init__()
            self.lr = 0.0
            self.c = nn.Parameter(torch.zeros(1))

        def forward(self, X):
            return self.c.expand(len(X))

        def loss(self, y_hat, y):
            return ((y_hat - y) ** 2).mean()

        def validation_step(self, batch):
            return {"loss": super().validation_step(batch)["loss"],
                    "mean_y": batch[-1].mean().item()}

    class Data(dodl.DataModule):
        def __init__(self):
            super().__init__(batch_size=4)
            self.X = torch.zeros(10, 1)
            self.y = torch.arange(10.0)

        def get_dataloader(self, train):
            return self.get_tensorloader((self.X, self.y), train)

    history = dodl.Trainer(max_epochs=1, device="cpu").fit(Constant(), Data())
    # batches of 4, 4 and 2: the weighted average is the mean over examples
    assert history["val_mean_y"][0] == pytest.approx(4.5)
    assert history["val_loss"][0] == pytest.approx((torch.arange(10.0) ** 2)
                                                   .mean().item())


# --- gradient clipping ------------------------------------------------------

def test_clip_gradients_bounds_the_global_norm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 2))
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 10
    before = [p.grad.clone() for p in model.parameters()]
    norm_before = global_grad_norm(model)
    assert norm_before > 1
    trainer = dodl.Trainer(max_epochs=1, device="cpu")
    returned = trainer.clip_gradients(1.0, model)
    assert float(returned) == pytest.approx(norm_before, rel=1e-5)
    assert global_grad_norm(model) == pytest.approx(1.0, rel=1e-4)
    # the direction is kept: every gradient is scaled by the same factor
    scale = 1.0 / norm_before
    for old, p in zip(before, model.parameters()):
        assert torch.allclose(p.grad, old * scale, rtol=1e-4, atol=1e-7)


def test_clip_gradients_leaves_small_gradients_alone():
    model = nn.Linear(3, 1)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.01)
    before = [p.grad.clone() for p in model.parameters()]
    dodl.Trainer(max_epochs=1, device="cpu").clip_gradients(5.0, model)
    for old, p in zip(before, model.parameters()):
        assert torch.allclose(p.grad, old)


def test_trainer_clips_gradients_during_fit():
    norms = []

    class RecordingSGD(dodl.SGD):
        def step(self):
            norms.append(torch.sqrt(sum((p.grad ** 2).sum()
                                        for p in self.params)).item())
            super().step()

    class Model(dodl.LinearRegressionScratch):
        def configure_optimizers(self):
            return RecordingSGD([self.w, self.b], self.lr)

    torch.manual_seed(0)
    trainer = dodl.Trainer(max_epochs=2, gradient_clip_val=0.5, device="cpu")
    trainer.fit(Model(3, lr=0.03), make_data())
    assert len(norms) == 2 * 50
    assert max(norms) <= 0.5 + 1e-5
    assert norms[0] == pytest.approx(0.5, rel=1e-4)  # the first one was big


# --- callbacks and the progress board ---------------------------------------

def test_callbacks_are_called_after_every_epoch():
    calls = []

    class Recorder:
        def on_epoch_end(self, trainer, epoch, metrics):
            calls.append((trainer, epoch, dict(metrics)))

    torch.manual_seed(0)
    trainer = dodl.Trainer(max_epochs=3, device="cpu", callbacks=[Recorder()])
    history = trainer.fit(dodl.LinearRegressionScratch(3, lr=0.03), make_data())
    assert [c[1] for c in calls] == [1, 2, 3]
    assert all(c[0] is trainer for c in calls)
    assert [c[2]["val_loss"] for c in calls] == history["val_loss"]


def test_progress_board_prints_one_line_per_epoch_outside_ipython(capsys):
    assert not dodl.ProgressBoard.in_notebook()
    torch.manual_seed(0)
    board = dodl.ProgressBoard()
    trainer = dodl.Trainer(max_epochs=4, device="cpu", callbacks=[board])
    trainer.fit(dodl.LinearRegressionScratch(3, lr=0.03), make_data())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {i}/4")
        assert "train_loss" in line and "val_loss" in line
    assert len(board.history) == 4


def test_progress_board_every(capsys):
    torch.manual_seed(0)
    board = dodl.ProgressBoard(every=2)
    trainer = dodl.Trainer(max_epochs=5, device="cpu", callbacks=[board])
    trainer.fit(dodl.LinearRegressionScratch(3, lr=0.03), make_data())
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["2/5", "4/5", "5/5"]
    assert len(board.history) == 5


def test_progress_board_updates_one_figure_in_a_notebook(monkeypatch):
    display = pytest.importorskip("IPython.display")
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    def fake_display(obj, display_id=False):
        shown.append(obj)
        assert display_id is True
        return Handle()

    monkeypatch.setattr(dodl.ProgressBoard, "in_notebook",
                        staticmethod(lambda: True))
    monkeypatch.setattr(display, "display", fake_display)
    plt.close("all")
    torch.manual_seed(0)
    board = dodl.ProgressBoard(title="test")
    trainer = dodl.Trainer(max_epochs=3, device="cpu", callbacks=[board])
    trainer.fit(dodl.LinearRegressionScratch(3, lr=0.03), make_data())
    assert len(shown) == 1 and len(updates) == 2
    assert all(fig is shown[0] for fig in updates)
    assert plt.get_fignums() == []  # closed, so the notebook shows it once
    lines = board.ax.get_lines()
    assert [line.get_label() for line in lines] == ["train_loss", "val_loss"]
    assert all(len(line.get_xdata()) == 3 for line in lines)


# --- the from-scratch parts -------------------------------------------------

def test_scratch_sgd_matches_torch_sgd():
    torch.manual_seed(0)
    ours = [torch.randn(4, 3, requires_grad=True),
            torch.randn(3, requires_grad=True)]
    theirs = [p.detach().clone().requires_grad_(True) for p in ours]
    opt_ours = dodl.SGD(ours, lr=0.1)
    opt_theirs = torch.optim.SGD(theirs, lr=0.1)
    X = torch.randn(8, 4)
    for _ in range(5):
        for params, opt in [(ours, opt_ours), (theirs, opt_theirs)]:
            opt.zero_grad()
            loss = ((X @ params[0] + params[1]) ** 2).mean()
            loss.backward()
            opt.step()
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, atol=1e-6)


def test_scratch_sgd_zero_grad():
    p = torch.ones(3, requires_grad=True)
    (p * 2).sum().backward()
    opt = dodl.SGD([p], lr=0.5)
    opt.step()
    assert torch.allclose(p.detach(), torch.zeros(3))
    opt.zero_grad()
    assert torch.equal(p.grad, torch.zeros(3))


def test_linear_regression_scratch_gradients_match_nn_linear():
    torch.manual_seed(0)
    model = dodl.LinearRegressionScratch(num_inputs=4, lr=0.1)
    assert model.w.requires_grad and model.b.requires_grad
    with torch.no_grad():
        model.b.fill_(0.3)
    linear = nn.Linear(4, 1)
    with torch.no_grad():
        linear.weight.copy_(model.w.T)
        linear.bias.copy_(model.b)
    X, y = torch.randn(16, 4), torch.randn(16, 1)
    model.loss(model(X), y).backward()
    nn.functional.mse_loss(linear(X), y).backward()
    assert torch.allclose(model(X), linear(X), atol=1e-6)
    assert torch.allclose(model.w.grad, linear.weight.grad.T, atol=1e-6)
    assert torch.allclose(model.b.grad, linear.bias.grad, atol=1e-6)


def test_scratch_loss_reshapes_labels():
    model = dodl.LinearRegressionScratch(num_inputs=2, lr=0.1)
    y_hat = torch.tensor([[1.0], [2.0]])
    assert model.loss(y_hat, torch.tensor([1.0, 4.0])).item() == 2.0


# --- data -------------------------------------------------------------------

def test_synthetic_data_shapes_and_seed():
    data = make_data(num_train=30, num_val=10, batch_size=8)
    assert data.X.shape == (40, 3) and data.y.shape == (40, 1)
    again = make_data(num_train=30, num_val=10, batch_size=8)
    assert torch.equal(data.X, again.X) and torch.equal(data.y, again.y)
    other = make_data(num_train=30, num_val=10, batch_size=8, seed=1)
    assert not torch.equal(data.X, other.X)
    residual = data.y - data.X @ data.w.reshape(-1, 1) - data.b
    assert residual.abs().max() < 0.1  # noise of 0.01
    sizes = [len(y) for _, y in data.train_dataloader()]
    assert sizes == [8, 8, 8, 6]
    assert sum(len(y) for _, y in data.val_dataloader()) == 10


def test_tensorloader_shuffles_training_data_reproducibly():
    data = make_data(num_train=50, num_val=20, batch_size=50)
    loader = data.train_dataloader()
    first, second = [next(iter(loader))[1] for _ in range(2)]
    assert not torch.equal(first, second)          # a new order each epoch
    assert torch.equal(first, next(iter(data.train_dataloader()))[1])
    assert torch.equal(torch.sort(first, dim=0).values,
                       torch.sort(data.y[:50], dim=0).values)
    X_val, y_val = next(iter(data.val_dataloader()))
    assert torch.equal(y_val, data.y[50:])         # validation keeps order


# --- small helpers ----------------------------------------------------------

def test_add_to_class():
    class Box:
        def __init__(self):
            self.value = 3

    box = Box()

    @dodl.add_to_class(Box)
    def double(self):
        return 2 * self.value

    assert box.double() == 6
    assert callable(double)


def test_timer():
    timer = dodl.Timer()
    timer.times = [1.0, 2.0, 3.0]
    assert timer.sum() == 6.0
    assert timer.avg() == 2.0
    assert timer.cumsum() == [1.0, 3.0, 6.0]
    timer.start()
    assert timer.stop() >= 0 and len(timer.times) == 4


def test_devices():
    assert dodl.cpu() == torch.device("cpu")
    assert dodl.gpu(1) == torch.device("cuda", 1)
    assert dodl.num_gpus() == torch.cuda.device_count()
    assert dodl.try_gpu(dodl.num_gpus()) == dodl.cpu()
    expected = dodl.gpu() if torch.cuda.is_available() else dodl.cpu()
    assert dodl.try_gpu() == expected
    assert dodl.Trainer(max_epochs=1).device == expected
    assert dodl.Trainer(max_epochs=1, device="cpu").device == dodl.cpu()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("make_model", [
    lambda: dodl.LinearRegressionScratch(num_inputs=3, lr=0.03),
    lambda: dodl.LinearRegression(lr=0.03),
    lambda: dodl.WeightDecay(weight_decay=0.1, lr=0.03),
], ids=["scratch", "concise", "weight_decay"])
def test_training_on_the_gpu(make_model):
    torch.manual_seed(0)
    model = make_model()
    trainer = dodl.Trainer(max_epochs=3, gradient_clip_val=10)
    assert trainer.device.type == "cuda"
    history = trainer.fit(model, make_data())
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert history["val_loss"][-1] < 0.05  # weight decay biases the fit a bit


def test_weight_decay_shrinks_the_weights():
    data = dodl.SyntheticRegressionData(
        w=0.01 * torch.ones(50), b=0.5, noise=0.01, num_train=10,
        num_val=20, batch_size=5)
    norms = []
    for model in [dodl.WeightDecayScratch(50, weight_decay=0, lr=0.01),
                  dodl.WeightDecayScratch(50, weight_decay=10, lr=0.01)]:
        torch.manual_seed(0)
        dodl.Trainer(max_epochs=10, device="cpu").fit(model, data)
        norms.append(model.w.norm().item())
    assert norms[1] < norms[0] / 2
    assert dodl.l2_penalty(torch.tensor([3.0, 4.0])).item() == 12.5


# --- the package ------------------------------------------------------------

def test_import_has_no_side_effects(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run(
        [sys.executable, "-c", "from dodl import torch as dodl; dodl.Trainer"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == ""
    assert list(tmp_path.iterdir()) == []
