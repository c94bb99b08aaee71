"""The Tensor: a numpy array that remembers the op that made it, and ``backward()``.

Every op applied to tensors that need gradients records a node: the op (with what its
gradient rule needs) and the input tensors. ``backward()`` walks those nodes from the cost
back to the inputs and applies the chain rule at each one:

    ∂C/∂input = ∂C/∂output · ∂output/∂input      (summed over every use of the input)
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import checks, ops, threads

# Methods set __tracebackhide__ so that IPython shows a learner their own line and the check that
# failed, not the frames in between (see errors.HIDDEN_FOR_USER_ERRORS).
from .errors import HIDDEN_FOR_USER_ERRORS, DTypeError, GraphError, MicrogradnetError, ShapeError
from .tape import Tape

_state: dict[str, Any] = {"grad": True, "dtype": np.dtype(np.float32)}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

Operand = Union["Tensor", ArrayLike]
"""What an op accepts beside a tensor: another Tensor, a number, a list or a numpy array."""


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python numbers or integer arrays (float32 at start)."""
    return _state["dtype"]


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the default float dtype: ``np.float32`` (the default) or ``np.float64``."""
    d = np.dtype(dtype)
    if d not in _FLOATS:
        raise DTypeError(f"set_default_dtype: expected float32 or float64, got {d}")
    _state["dtype"] = d


def is_grad_enabled() -> bool:
    """False inside ``no_grad()``: ops then record nothing."""
    return _state["grad"]


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) in which ops build no graph: for evaluation,
    prediction and hand-written parameter updates."""

    def __enter__(self):
        self._prev = _state["grad"]
        _state["grad"] = False
        return self

    def __exit__(self, *exc):
        _state["grad"] = self._prev
        return False

    def _recreate_cm(self):
        # As a decorator, each call gets its own instance, so nested or recursive calls
        # restore the right mode.
        return type(self)()


class enable_grad(no_grad):
    """Turn graph recording back on inside a ``no_grad`` block."""

    def __enter__(self):
        self._prev = _state["grad"]
        _state["grad"] = True
        return self


def _as_array(data: Any, dtype: DTypeLike | None = None) -> np.ndarray:
    """Turn user data into a float numpy array: float arrays keep their dtype, Python numbers,
    lists and integer arrays take the default dtype; anything else is a clear error."""
    if isinstance(data, np.ndarray):
        arr = data
        from_python = False
    else:
        from_python = not isinstance(data, np.generic)
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise DTypeError(
                f"Tensor: cannot make an array of numbers from {type(data).__name__}: {e}"
            ) from None
    if dtype is not None:
        d = np.dtype(dtype)
        if d not in _FLOATS:
            raise DTypeError(f"Tensor: dtype must be float32 or float64, got {d}")
    elif arr.dtype in _FLOATS and not from_python:
        return arr
    elif arr.dtype.kind == "f" and not from_python:
        raise DTypeError(
            f"Tensor: {arr.dtype} arrays are not supported, only float32 and float64; "
            "convert with .astype(np.float32) or pass dtype=np.float32"
        )
    elif arr.dtype.kind in "fiub":
        d = _state["dtype"]
    else:
        raise DTypeError(
            f"Tensor: expected numbers, got an array of dtype {arr.dtype} "
            f"({type(data).__name__}); convert it to a float array first"
        )
    if arr.dtype.kind not in "fiub":
        raise DTypeError(f"Tensor: expected numbers, got an array of dtype {arr.dtype}")
    return arr.astype(d, copy=False)


class Tensor:
    """A numpy array with an optional gradient and the record of how it was computed.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``: float arrays keep their
    dtype (and share memory with ``data``); Python numbers, lists and integer arrays get
    the default dtype (float32 unless changed with :func:`set_default_dtype`).
    A tensor made by the user is a *leaf*; after ``backward()`` a leaf that requires grad
    holds ``.grad``, an array of its shape.
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "name",
        "_op",
        "_prev",
        "_retain",
        "_scope",
        "_fingerprints",
        "__weakref__",
    )
    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool
    name: str | None
    _op: ops.Op | None
    _prev: tuple[Tensor, ...]
    _retain: bool
    _scope: Any
    _fingerprints: Any
    __array_ufunc__ = None  # numpy defers to our operators: array + tensor -> Tensor

    def __init__(
        self,
        data: ArrayLike | Tensor,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: DTypeLike | None = None,
    ):
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if isinstance(data, Tensor):
            data = data.data
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise DTypeError(f"Tensor: requires_grad must be True or False, got {requires_grad!r}")
        if name is not None and not isinstance(name, str):
            raise DTypeError(f"Tensor: name must be a string, got {type(name).__name__}")
        self.data = _as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = None
        self._prev = ()
        self._retain = False
        self._scope = None
        self._fingerprints = None

    @classmethod
    def _make(cls, data: np.ndarray, op: ops.Op | None, prev: tuple[Tensor, ...]) -> Tensor:
        """Fast constructor for op results (no checks): the engine's hot path."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = op is not None
        t.name = None
        t._op = op
        t._prev = prev
        t._retain = False
        t._scope = None
        t._fingerprints = None
        return t

    # ----- what it is -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of values."""
        return self.data.size

    @property
    def op(self) -> ops.Op | None:
        """The op that made this tensor (None for a leaf)."""
        return self._op

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from."""
        return self._prev

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op."""
        return self._op is None

    @property
    def module(self) -> Any:
        """The innermost module whose call returned this tensor (None if none did); the graph
        picture frames a module's ops together."""
        return self._scope

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """Iterate over the first axis: ``for row in t`` and ``a, b, c = t`` give ``t[0]``,
        ``t[1]``, … (each one indexing, recorded in the graph like ``t[i]``)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the values, for numpy (no graph; the same memory unless a copy
        or another dtype is asked for)."""
        return np.array(self.data, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20, prefix="Tensor(")
        extra = [f"dtype={self.data.dtype}"]
        if self._op is not None:
            extra.append(f"op={self._op.describe()}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return f"Tensor({body}, {', '.join(extra)})"

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (the same memory, not a copy)."""
        return self.data

    def item(self) -> float:
        """The single value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ShapeError(
                f"item: only a tensor with one value has an item, this one has shape {self.shape}"
            )
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def detach(self) -> Tensor:
        """The same values, cut from the graph: a leaf that does not require grad."""
        return Tensor._make(self.data, None, ())

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Mark a leaf as needing a gradient (in place); returns the tensor."""
        if self._op is not None and not flag:
            raise GraphError("requires_grad_: only a leaf can stop requiring grad; use detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in ``.grad`` after ``backward()``."""
        self._retain = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    # ----- applying ops -----------------------------------------------------------------
    def _const(self, x: Operand) -> Tensor:
        """A number or array that meets this tensor becomes a constant of *this* dtype."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if isinstance(x, Tensor):
            return x
        if isinstance(x, numbers.Number) or isinstance(x, (np.ndarray, np.generic, list, tuple)):
            arr = np.asarray(x)
            if arr.dtype.kind not in "fiub":
                raise DTypeError(f"cannot combine a tensor with an array of dtype {arr.dtype}")
            return Tensor._make(arr.astype(self.data.dtype, copy=False), None, ())
        raise DTypeError(
            f"cannot combine a Tensor with {type(x).__name__}; expected a Tensor, a number or a numpy array"
        )

    def __add__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        other = self._const(other)
        # A vector added to every row of a matrix is a bias: record it as add_bias, so the
        # graph of ``x @ W + b`` reads matmul -> add_bias, as in the math.
        if _is_bias(self, other):
            return apply(ops.AddBiasOp(), self, other)
        if _is_bias(other, self):  # b + x: the same sum, the matrix first
            return apply(ops.AddBiasOp(), other, self)
        return apply(ops.AddOp(), self, other)

    def __radd__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return self._const(other).__add__(self)

    def add_bias(self, b: Operand) -> Tensor:
        """``self + b`` with ``b`` a vector added to every row, recorded as ``add_bias``."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.AddBiasOp(), self, self._const(b))

    def __sub__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.SubOp(), self, self._const(other))

    def __rsub__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.SubOp(), self._const(other), self)

    def __mul__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.MulOp(), self, self._const(other))

    def __rmul__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.MulOp(), self._const(other), self)

    def __truediv__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.DivOp(), self, self._const(other))

    def __rtruediv__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.DivOp(), self._const(other), self)

    def __pow__(self, p: float) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if isinstance(p, Tensor) or not isinstance(p, numbers.Real):
            raise DTypeError(
                "pow: the exponent must be a number (x ** 2); for a tensor exponent write exp(p * log(x))"
            )
        return apply(ops.PowOp(p), self)

    def __rpow__(self, base: Any) -> Tensor:
        raise DTypeError(
            "pow: a tensor exponent is not supported; for base ** x write (x * math.log(base)).exp()"
        )

    def __neg__(self) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.NegOp(), self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.MatMulOp(), self, self._const(other))

    def __rmatmul__(self, other: Operand) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.MatMulOp(), self._const(other), self)

    def __getitem__(self, index: Any) -> Tensor:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if isinstance(index, Tensor):
            raise DTypeError("getitem: index with ints, slices or an integer numpy array, not a Tensor")
        return apply(ops.GetItemOp(index), self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.SumOp(axis, keepdims), self)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.MeanOp(axis, keepdims), self)

    def reshape(self, *shape: int | tuple[int, ...] | list[int]) -> Tensor:
        """The same values in a new shape (one size may be -1)."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(ops.ReshapeOp(shape), self)

    def transpose(self, *axes: int | tuple[int, ...] | list[int]) -> Tensor:
        """Reverse the axes, or permute them as given."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(ops.TransposeOp(axes or None), self)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return self.transpose()

    def exp(self) -> Tensor:
        """``e^x`` elementwise."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.ExpOp(), self)

    def log(self) -> Tensor:
        """Natural log elementwise (all values must be > 0)."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.LogOp(), self)

    def sigmoid(self) -> Tensor:
        """``σ(z) = 1/(1 + e^(−z))`` elementwise."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.SigmoidOp(), self)

    def tanh(self) -> Tensor:
        """``tanh(z)`` elementwise."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.TanhOp(), self)

    def relu(self) -> Tensor:
        """``max(0, z)`` elementwise."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.ReLUOp(), self)

    def softmax(self, axis: int = -1) -> Tensor:
        """``e^(x_i) / Σ_j e^(x_j)`` along ``axis``."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.SoftmaxOp(axis), self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x_i − log Σ_j e^(x_j)`` along ``axis`` (stable)."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        return apply(ops.LogSoftmaxOp(axis), self)

    # ----- backward ---------------------------------------------------------------------
    def backward(
        self, gradient: Operand | None = None, retain_graph: bool = False, keep_grads: bool = False
    ) -> None:
        """Compute ``∂self/∂leaf`` for every leaf that requires grad, into ``leaf.grad``.

        On a scalar the walk starts from ``∂C/∂C = 1``; on any other shape pass
        ``gradient`` (an array of this shape). Gradients add up across calls until
        ``zero_grad()``. The graph's saved buffers are released afterwards unless
        ``retain_graph=True``; ``keep_grads=True`` also keeps every intermediate tensor's
        gradient in its ``.grad`` (the pictures use that).
        """
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if not self.requires_grad:
            raise GraphError(
                "backward: this tensor does not require grad: none of the tensors it was "
                "computed from has requires_grad=True (or it was made under no_grad())"
            )
        if gradient is None:
            if self.data.size != 1:
                raise GraphError(
                    f"backward: the tensor has shape {self.shape}, not a single value; pass "
                    "gradient= (an array of that shape), or reduce it first, e.g. .sum()"
                )
            one = _ONE.get(self.data.dtype) if self.data.ndim == 0 else None
            seed = one.copy() if one is not None else np.ones_like(self.data)
        else:
            seed = np.array(
                gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.data.dtype, copy=True
            )
            if seed.shape != self.data.shape:
                raise ShapeError(
                    f"backward: gradient has shape {seed.shape} but the tensor has shape {self.shape}"
                )
        if self._op is None:  # a leaf: ∂x/∂x is the seed itself (there is no graph to walk)
            self.grad = seed if self.grad is None else self.grad + seed
            return
        run_backward(self, seed, retain_graph=retain_graph, keep_grads=keep_grads)


_ONE = {d: np.ones((), d) for d in _FLOATS}  # ∂C/∂C = 1 for a scalar cost, copied per walk


def _is_bias(x: Tensor, b: Tensor) -> bool:
    """True when ``b`` is a vector with one value per column of the matrix (or batch) ``x``."""
    return b.data.ndim == 1 and x.data.ndim >= 2 and x.data.shape[-1] == b.data.shape[0]


def apply(op: ops.Op, *inputs: Tensor) -> Tensor:
    """Run ``op`` forward on the inputs' arrays and, when a gradient will be needed,
    record the node (op + inputs) in the output tensor."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    try:
        if len(inputs) == 2:
            a, b = inputs
            data = op.forward(a.data, b.data)
            needed = a.requires_grad or b.requires_grad
        elif len(inputs) == 1:
            data = op.forward(inputs[0].data)
            needed = inputs[0].requires_grad
        else:
            data = op.forward(*[t.data for t in inputs])
            needed = any(t.requires_grad for t in inputs)
    except MicrogradnetError:  # the op's own message: it names the op already
        raise
    except ValueError as e:  # numpy's words: say them once, after the op's name
        if len(inputs) == 2 and not _broadcastable(inputs[0].data, inputs[1].data):
            raise ops.base.broadcast_error(op.name, inputs[0].data, inputs[1].data) from None
        text = str(e)
        raise ShapeError(text if text.startswith(f"{op.name}:") else f"{op.name}: {text}") from None
    if needed and _state["grad"]:
        out = Tensor._make(data, op, inputs)
        if op.saved.__class__ in checks.CONTAINERS:  # fingerprints for check_saved
            out._fingerprints = checks.fingerprint_saved(out)
        return out
    return Tensor._make(data, None, ())


def _broadcastable(a: np.ndarray, b: np.ndarray) -> bool:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return False
    return True


def topological_order(root: Tensor, grad_only: bool = True) -> list[Tensor]:
    """The non-leaf tensors that ``root`` depends on, each after all of its inputs, in the
    order a forward pass computes them (an op's inputs in their order: layer 1 before layer 2).

    ``grad_only``: follow only inputs that need a gradient (what ``backward`` visits); with
    False, every op of the graph (what the pictures draw). An explicit stack instead of
    recursion, so a chain of 100,000 ops is fine.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in reversed(node._prev):  # popped first-input-first
            if p._op is not None and (p.requires_grad or not grad_only) and id(p) not in seen:
                stack.append((p, False))
    return order


def run_backward(
    root: Tensor, seed: np.ndarray, retain_graph: bool = False, keep_grads: bool = False
) -> None:
    """The backward walk from ``root``: write the graph down as a :class:`~microgradnet.tape.Tape`
    and walk it from the root to the leaves, applying the chain rule at every node (see
    :meth:`Tape.backward <microgradnet.tape.Tape.backward>`)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    tape = Tape.of(root)
    if tape.products:  # numpy's BLAS threads: the faster count for these matrix shapes
        threads.choose_for(tape.products)
    tape.backward(seed, retain_graph=retain_graph, keep_grads=keep_grads)


def tensor(
    data: ArrayLike | Tensor,
    requires_grad: bool = False,
    name: str | None = None,
    dtype: DTypeLike | None = None,
) -> Tensor:
    """Make a :class:`Tensor` (the same as calling ``Tensor(...)``)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)


def as_tensor(x: ArrayLike | Tensor, dtype: DTypeLike | None = None) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor of it."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)
