"""``Module``: a piece of network that owns parameters and sub-modules, PyTorch-style."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..display import display_name
from ..errors import HIDDEN_FOR_USER_ERRORS, ModelFileError
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable weight or bias: a leaf with ``requires_grad=True``."""

    __slots__ = ()

    def __init__(self, data: ArrayLike | Tensor, name: str | None = None, dtype: DTypeLike | None = None):
        super().__init__(data, requires_grad=True, name=name, dtype=dtype)


class Module:
    """Base class of layers and networks.

    A subclass stores parameters and sub-modules as attributes (lists of modules work too)
    and defines ``forward``; calling the module runs it. Parameters are found by walking the
    attributes in the order they were set, and named by their path: ``layers.0.weight``.
    """

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:  # pragma: no cover - abstract
        """The module's computation (each subclass names its own inputs: ``forward(self, x)``)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        out = self.forward(*args)
        if isinstance(out, Tensor) and out._op is not None and out._scope is None:
            # The innermost module that produced this tensor: the pictures fold the ops
            # between a module's inputs and this output into one box (an MLP reads as layers).
            out._scope = self
        return out

    # ----- finding things -------------------------------------------------------------
    def _children(self) -> Iterator[tuple[str, Module | Parameter]]:
        for key, value in vars(self).items():
            if isinstance(value, (Module, Parameter)):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Module, Parameter)):
                        yield f"{key}.{i}", item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(path, module)`` for this module (path ``""``) and every sub-module."""
        yield prefix, self
        for key, value in self._children():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}.{key}" if prefix else key)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs, e.g. ``("layers.0.weight", W)``."""
        for key, value in self._children():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Parameter):
                yield name, value
            else:
                yield from value.named_parameters(name)

    def parameters(self) -> list[Parameter]:
        """Every parameter, in a stable order (pass this to an optimizer)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers the network learns (all weights and biases)."""
        return int(sum(p.data.size for p in self.parameters()))

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    # ----- saving and loading ---------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter's values, by name."""
        return OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state: Mapping[str, ArrayLike | Tensor], strict: bool = True) -> None:
        """Copy values into the parameters, checking names and shapes first (nothing is
        changed if any check fails). With ``strict=False`` missing or extra names are ignored."""
        params = OrderedDict(self.named_parameters())
        missing = [n for n in params if n not in state]
        extra = [n for n in state if n not in params]
        if strict and (missing or extra):
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise ModelFileError(f"load_state_dict: names do not match the model: {'; '.join(parts)}")
        staged: list[tuple[Parameter, np.ndarray]] = []
        for name, p in params.items():
            if name not in state:
                continue
            saved = state[name]
            value = np.asarray(saved.data if isinstance(saved, Tensor) else saved)
            if value.shape != p.data.shape:
                raise ModelFileError(
                    f"load_state_dict: {name} has shape {value.shape} in the saved "
                    f"state but {p.data.shape} in the model"
                )
            if value.dtype.kind not in "fiu":
                raise ModelFileError(f"load_state_dict: {name} holds {value.dtype} values, not numbers")
            staged.append((p, value))
        for p, value in staged:
            p.data[...] = value

    # ----- describing -----------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        subs = [(k, v) for k, v in self._children() if isinstance(v, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not subs:
            return head + ")"
        lines = [head]
        for k, v in subs:
            lines.append("  (" + k + "): " + repr(v).replace("\n", "\n  "))
        return "\n".join(lines) + "\n)"

    def summary(self) -> str:
        """A table of the layers, their shapes and parameter counts, with the total."""
        rows = [("parameter", "shape", "count")]
        for name, p in self.named_parameters():
            rows.append((display_name(name), "×".join(map(str, p.shape)), f"{p.data.size:,}"))
        rows.append(("total", "", f"{self.num_parameters():,}"))
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        fmt = lambda r: f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}"  # noqa: E731
        rule = "-" * (sum(w) + 4)
        out = [f"{type(self).__name__}", fmt(rows[0]), rule] + [fmt(r) for r in rows[1:-1]]
        return "\n".join(out + [rule, fmt(rows[-1])])
