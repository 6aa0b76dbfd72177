"""The learning-rate schedule of ``train`` and ``pretrain``: linear warm-up, linear decay to zero.

A time budget decides how many steps a run gets; the horizon is fitted to it as soon as the
step time is known, so a short budget still warms up for its share and decays fully.

Example::

    horizon = Horizon(total=3000, warmup=0.1)
    scheduler = horizon.scheduler(optimizer)
    horizon.fit(affordable=900, cap=3000, step=10)   # the budget allows 900 steps
"""

from __future__ import annotations

from typing import Any

import torch


class Horizon:
    """The step the learning rate reaches zero at; shortened when the time budget is tighter
    than the epochs asked for, so a time-limited run still warms up and decays fully."""

    def __init__(self, total: int, warmup: float) -> None:
        self.total = total
        self.share = warmup
        self.warm = max(1, int(total * warmup))

    def fit(self, affordable: int, cap: int, step: int) -> None:
        """End at the steps the budget affords (at most ``cap``), measured at ``step``; while
        still warming up, the warm-up becomes its share of the new horizon. Without this a
        budget of a few epochs was all warm-up: the learning rate never decayed."""
        floor = self.warm + 1 if step >= self.warm else 2
        self.total = min(cap, max(floor, step + 1, affordable))
        if step < self.warm:
            self.warm = max(1, min(int(self.total * self.share), self.total - 1))

    def factor(self, step: int) -> float:
        if step < self.warm:
            return (step + 1) / self.warm
        return max(0.0, (self.total - step) / max(1, self.total - self.warm))

    def scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        """Linear warm-up, then linear decay to zero at ``total`` (``train`` and ``pretrain``)."""
        return torch.optim.lr_scheduler.LambdaLR(optimizer, self.factor)
