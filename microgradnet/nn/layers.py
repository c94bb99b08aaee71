"""Layers: ``Linear`` (weighted sums plus a bias), activations, ``Sequential``."""

from __future__ import annotations

import math
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from ..errors import HIDDEN_FOR_USER_ERRORS, DTypeError, ShapeError
from ..tensor import Operand, Tensor, as_tensor
from .module import Module, Parameter


class Sigmoid(Module):
    """``σ(z) = 1/(1 + e^(−z))``: squashes each weighted sum into an activation in (0, 1)."""

    def forward(self, z: Operand) -> Tensor:
        return as_tensor(z).sigmoid()


class Tanh(Module):
    """``tanh(z)``: squashes into (−1, 1)."""

    def forward(self, z: Operand) -> Tensor:
        return as_tensor(z).tanh()


class ReLU(Module):
    """``max(0, z)``."""

    def forward(self, z: Operand) -> Tensor:
        return as_tensor(z).relu()


class Softmax(Module):
    """``softmax`` along the last axis: outputs that are positive and sum to 1."""

    def forward(self, z: Operand) -> Tensor:
        return as_tensor(z).softmax(-1)


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, z: Operand) -> Tensor:
        return as_tensor(z)


ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "softmax": Softmax,
    "identity": Identity,
    "linear": Identity,
    "none": Identity,
}


def get_activation(spec: str | Module | None) -> Module | None:
    """An activation module from a name (``"sigmoid"``, ``"relu"``, ``"tanh"``, ``"softmax"``,
    ``None``/``"none"``), or the module itself."""
    if spec is None or isinstance(spec, Module):
        return None if isinstance(spec, Identity) else spec
    if isinstance(spec, str) and spec.lower() in ACTIVATIONS:
        cls = ACTIVATIONS[spec.lower()]
        return None if cls is Identity else cls()
    raise ValueError(f"unknown activation {spec!r}; choose one of sigmoid, tanh, relu, softmax, none")


activation = get_activation  # the short public name: mg.nn.activation("relu")


class Linear(Module):
    """``z = x @ W + b``, then an optional activation ``a = σ(z)``.

    Each of the ``out_features`` neurons takes a weighted sum of the ``in_features`` inputs
    (column ``j`` of ``weight`` says which input pattern neuron ``j`` looks for) and adds its
    bias (how strong that sum must be before the neuron lights up).

    Shapes: ``weight`` is ``(in_features, out_features)`` — so ``x @ W`` works on a batch
    ``x`` of shape ``(N, in_features)`` — and ``bias`` is ``(out_features,)``.
    The graph records ``matmul`` then ``add_bias`` (then the activation).

    Initialisation (seedable with ``seed`` or a numpy ``Generator`` as ``rng``): Glorot
    uniform, ``±√(6/(in+out))``, for sigmoid/tanh/none; He normal, ``σ = √(2/in)``, for
    ReLU; biases start at zero.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str | Module | None = None,
        dtype: DTypeLike | None = None,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        init: str | None = None,
    ):
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise DTypeError(f"Linear: dtype must be float32 or float64, got {dt}")
        self.activation = get_activation(activation)
        rng = rng if rng is not None else np.random.default_rng(seed)
        init = init or ("he" if isinstance(self.activation, ReLU) else "glorot")
        if init == "he":
            w = rng.standard_normal((in_features, out_features)) * math.sqrt(2.0 / in_features)
        elif init == "glorot":
            limit = math.sqrt(6.0 / (in_features + out_features))
            w = rng.uniform(-limit, limit, (in_features, out_features))
        elif init == "normal":  # Nielsen's first network: weights and biases N(0, 1)
            w = rng.standard_normal((in_features, out_features))
        else:
            raise ValueError(f"Linear: unknown init {init!r}; choose glorot, he or normal")
        self.weight = Parameter(w.astype(dt), name="weight")
        b = rng.standard_normal(out_features) if init == "normal" else np.zeros(out_features)
        self.bias = Parameter(b.astype(dt), name="bias")

    def forward(self, x: Operand) -> Tensor:
        w = self.weight
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=w.data.dtype)
        if x.data.dtype != w.data.dtype:
            raise DTypeError(
                f"Linear: the input is {x.data.dtype} but the weights are {w.data.dtype}; "
                f"convert the input or build the model with dtype=np.{x.data.dtype}"
            )
        if x.data.ndim == 0 or x.data.shape[-1] != self.in_features:
            raise ShapeError(
                f"Linear({self.in_features}→{self.out_features}): expected inputs with "
                f"{self.in_features} features in the last axis, got shape {x.shape}"
            )
        z = (x @ w).add_bias(self.bias)
        return self.activation.forward(z) if self.activation is not None else z

    def __repr__(self) -> str:
        return f"Linear({self.extra_repr()})"

    def extra_repr(self) -> str:
        act = f", activation={type(self.activation).__name__.lower()}" if self.activation else ""
        return f"{self.in_features}→{self.out_features}{act}, {self.weight.dtype}"


M = TypeVar("M", bound=Module)


class Sequential(Module, Generic[M]):
    """Modules applied one after another: ``Sequential(Linear(2, 8, "tanh"), Linear(8, 1))``.

    (For type checkers, ``Sequential[Linear]`` is a Sequential whose layers are all Linear.)"""

    def __init__(self, *layers: M):
        for i, m in enumerate(layers):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is {type(m).__name__}, not a Module")
        self.layers: list[M] = list(layers)

    def forward(self, x: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        for m in self.layers:
            x = m(x)
        return as_tensor(x)

    def __getitem__(self, i: int) -> M:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)
