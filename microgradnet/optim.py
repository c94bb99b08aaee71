"""Optimizers: walk downhill on the cost surface using the gradients ``backward()`` found.

The costs average over the mini-batch, so ``∂C/∂w`` is the *average* nudge the examples of
the batch ask of ``w``, and ``lr`` is the step size per batch whatever the batch size.
Nielsen's book writes the update as ``w → w − (η/m) Σ ∂C_x/∂w`` with the cost
``C_x = ½‖y − a‖²``; our ``squared_error`` has no ½, so its gradient is twice his, and his
η is our ``2·lr`` (his η = 3.0 is ``lr=1.5`` here; the same network trains well with either).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor


def _check_params(params: Iterable[Tensor] | Tensor, who: str) -> list[Tensor]:
    if isinstance(params, Tensor):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{who}: params must be an iterable of Tensors, e.g. model.parameters()") from None
    if not params:
        raise ValueError(f"{who}: got no parameters to optimize")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: params[{i}] is {type(p).__name__}, not a Tensor")
        if not p.requires_grad:
            raise ValueError(f"{who}: params[{i}] ({p.name or 'unnamed'}) does not require grad")
    return params


def _check_number(
    who: str, name: str, value: Any, low: float = 0.0, low_open: bool = False, high: float | None = None
) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(float(value)):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    number = float(value)
    if number < low or (low_open and number == low) or (high is not None and number >= high):
        bound = f"> {low}" if low_open else f">= {low}"
        if high is not None:
            bound += f" and < {high}"
        raise ValueError(f"{who}: {name} must be {bound}, got {value!r}")
    return number


class Optimizer:
    """Holds the parameters; ``zero_grad()`` clears their gradients, ``step()`` moves them."""

    def __init__(self, params: Iterable[Tensor] | Tensor, who: str):
        self.params = _check_params(params, who)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``), ready for the next batch."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's settings and per-parameter buffers (copies)."""
        return {
            "settings": dict(self._settings()),
            "buffers": {k: [None if b is None else b.copy() for b in v] for k, v in self._buffers().items()},
        }

    def _settings(self) -> dict[str, Any]:
        return {}

    def _buffers(self) -> dict[str, list[np.ndarray | None]]:
        return {}


class SGD(Optimizer):
    """Stochastic gradient descent: ``w ← w − lr · ∂C/∂w`` for every parameter.

    With ``momentum`` μ the step follows a running velocity ``v ← μ·v + ∂C/∂w``,
    ``w ← w − lr·v``; ``weight_decay`` λ adds ``λ·w`` to each gradient (L2 regularisation).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Tensor,
        lr: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, "SGD")
        self.lr = _check_number("SGD", "lr", lr, low_open=True)
        self.momentum = _check_number("SGD", "momentum", momentum, high=1.0)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay)
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)
        # one buffer per parameter for lr·∂C/∂w: no fresh array (of a weight matrix's size)
        # every step, and .grad itself stays the gradient
        self._scratch: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Move every parameter one step downhill (in place; records no graph)."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if not mu and not wd:  # plain SGD, the videos' rule: w ← w − lr · ∂C/∂w
            scratch = self._scratch
            for i, p in enumerate(self.params):
                g = p.grad
                if g is None:
                    continue
                d = p.data
                buf = scratch[i]
                if buf is None or buf.shape != g.shape or buf.dtype is not g.dtype:
                    buf = scratch[i] = np.empty_like(g)
                np.multiply(g, lr, out=buf)
                d -= buf
            return
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            if mu:
                v = self.velocity[i]
                if v is None:
                    v = self.velocity[i] = np.array(g, dtype=p.data.dtype)
                else:
                    v *= mu
                    v += g
                g = v
            p.data -= lr * g

    def _settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}

    def _buffers(self) -> dict[str, list[np.ndarray | None]]:
        return {"velocity": self.velocity}


class Adam(Optimizer):
    """Adam: SGD with a per-parameter step size from running averages of the gradient
    (``m``) and of its square (``v``), bias-corrected: ``w ← w − lr·m̂/(√v̂ + eps)``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Tensor,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, "Adam")
        self.lr = _check_number("Adam", "lr", lr, low_open=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        self.betas = (
            _check_number("Adam", "betas[0]", betas[0], high=1.0),
            _check_number("Adam", "betas[1]", betas[1], high=1.0),
        )
        self.eps = _check_number("Adam", "eps", eps, low_open=True)
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay)
        self.m: list[np.ndarray | None] = [None] * len(self.params)
        self.v: list[np.ndarray | None] = [None] * len(self.params)
        self.t = 0

    def step(self) -> None:
        """One Adam step for every parameter that has a gradient."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            m, v = self.m[i], self.v[i]
            if m is None or v is None:  # the first step: both averages start at zero
                m = self.m[i] = np.zeros_like(p.data)
                v = self.v[i] = np.zeros_like(p.data)
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p.data -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)

    def _settings(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "t": self.t,
        }

    def _buffers(self) -> dict[str, list[np.ndarray | None]]:
        return {"m": self.m, "v": self.v}


__all__ = ["Optimizer", "SGD", "Adam"]
