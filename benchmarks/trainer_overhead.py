#!/usr/bin/env python3
"""The cost of dodl's Trainer against a hand-written PyTorch loop, on Fashion-MNIST.

    .venv/bin/python benchmarks/trainer_overhead.py [--epochs 2] [--repeat 3]

The same MLP and LeNet-style CNN train for the same epochs with the same data
order, optimizer and seed, once through ``dodl.Trainer`` and once through a
plain loop that does the same work (a validation pass after each epoch),
alternating. It prints the seconds per epoch of each and their ratio, and the
time to load Fashion-MNIST from its gzipped IDX files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from dodl import torch as dodl


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.AvgPool2d(2),   # (6, 14, 14)
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.AvgPool2d(2),             # (16, 5, 5)
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


class Wrapped(dodl.Classifier):
    """A dodl Classifier around a plain network, trained with SGD."""

    def __init__(self, net: nn.Module, lr: float):
        super().__init__()
        self.net, self.lr = net, lr

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        return F.cross_entropy(y_hat, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def run_trainer(make, data, epochs: int, lr: float) -> float:
    torch.manual_seed(0)
    model = Wrapped(make(), lr)
    trainer = dodl.Trainer(max_epochs=epochs, device=torch.device("cpu"))
    start = time.perf_counter()
    trainer.fit(model, data)
    return (time.perf_counter() - start) / epochs


def run_plain(make, data, epochs: int, lr: float) -> float:
    torch.manual_seed(0)
    net = make()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for X, y in data.get_dataloader(True):
            loss = F.cross_entropy(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            for X, y in data.get_dataloader(False):
                y_hat = net(X)
                F.cross_entropy(y_hat, y)
                (y_hat.argmax(dim=1) == y).float().mean()
    return (time.perf_counter() - start) / epochs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0,
                        help="use only the first N training images (smoke runs)")
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "trainer.json")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = dodl.FashionMNIST(batch_size=args.batch_size)
    load_seconds = time.perf_counter() - start
    if args.limit:
        data.limit(args.limit) if hasattr(data, "limit") else None
    print(f"loading Fashion-MNIST from gzipped IDX files: {load_seconds:.2f} s")
    rows = {}
    for name, make, lr in (("MLP", mlp, 0.1), ("LeNet", lenet, 0.9)):
        trainer_times, plain_times = [], []
        for rep in range(args.repeat):
            order = [("trainer", run_trainer), ("plain", run_plain)]
            if rep % 2:
                order.reverse()
            for label, fn in order:
                seconds = fn(make, data, args.epochs, lr)
                (trainer_times if label == "trainer" else plain_times).append(seconds)
                print(f"  {name:6} rep {rep + 1} {label:8} {seconds:7.2f} s/epoch", flush=True)
        t, p = statistics.median(trainer_times), statistics.median(plain_times)
        rows[name] = {"trainer_s_per_epoch": t, "plain_s_per_epoch": p, "ratio": t / p,
                      "trainer_runs": trainer_times, "plain_runs": plain_times}
    print(f"\n{'model':8} {'Trainer s/epoch':>16} {'plain s/epoch':>14} {'ratio':>7}")
    for name, r in rows.items():
        print(f"{name:8} {r['trainer_s_per_epoch']:16.2f} {r['plain_s_per_epoch']:14.2f} "
              f"{r['ratio']:7.3f}")
    print(f"(target: ratio <= 1.05; {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_seconds": load_seconds, "models": rows,
                                     "cpus": os.cpu_count(), "torch": torch.__version__,
                                     "epochs": args.epochs, "repeat": args.repeat}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
