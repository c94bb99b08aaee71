"""What the backward walk checks at each node, so that a mistake fails loudly instead of
giving a wrong gradient.

**Saved arrays are unchanged.** A gradient rule reuses arrays from the forward pass: matmul
keeps both matrices (``∂C/∂W = xᵀ·g`` needs ``x``), sigmoid keeps its output. If one of them
is changed in place between the forward pass and ``backward()`` (``x.data[...] = 0``,
``W.data -= …``, or ``optimizer.step()`` before ``backward()``), the rule would use values
the forward pass never saw, and the gradient would be silently wrong. numpy arrays have no
version counter, so when the engine records a node, :func:`fingerprint_saved` notes a
fingerprint of each saved array that user code can reach (an input's ``.data`` or the
output's); :func:`check_saved` computes it again just before the rule runs. The fingerprint
of a small array (up to 2 KB) is a copy of its bytes; of a larger one, the sum of its bits
read as unsigned integers (wrapping around): one pass over the array, and a change of any
single value changes it. Only a rearrangement of the same values, or changes that cancel
out exactly, would go unnoticed in a large array. Arrays that an op made for
itself (matmul's ``x`` and ``W`` are the user's; squared-error's difference ``a − y`` is
its own) are not fingerprinted: nobody else can write to them.

**Gradients fit their inputs.** A gradient rule must return one gradient per input
(:func:`grads_tuple`), each an array of that input's shape (:func:`grad_error` says what is
wrong otherwise): a user-written rule that
forgets to sum a broadcast gradient back would otherwise give a ``(4,)`` bias a ``(3, 4)``
``.grad``.
"""

from __future__ import annotations

import numpy as np

from .display import display_name
from .errors import DTypeError, GraphError, MicrogradnetError, ShapeError

__all__ = ["CONTAINERS", "fingerprint_saved", "check_saved", "grads_tuple", "grad_error"]

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_SMALL = 2048  # bytes: up to this, a copy of the bytes is cheaper than a numpy reduction


CONTAINERS = frozenset((tuple, list, np.ndarray))
"""The kinds of ``op.saved`` that can hold a tensor's values (anything else is not checked)."""


def _items(saved):
    """What an op saved, as a sequence: the items of a tuple or list, or the array itself."""
    cls = saved.__class__
    if cls is tuple or cls is list:
        return saved
    if cls is np.ndarray:
        return (saved,)
    return ()


def _fingerprint(a: np.ndarray):
    """Something that changes when any value of ``a`` changes (see the module docstring):
    the bytes themselves for a small array, else the wrapping sum of its bits."""
    if a.nbytes <= _SMALL or a.dtype.itemsize not in _UINT or a.dtype.hasobject:
        return a.tobytes()
    u = _UINT[a.dtype.itemsize]
    return np.add.reduce(a.view(u), axis=None, dtype=u)


def _owner(a, node) -> int | None:
    """Which tensor's values ``a`` is (or is a view of): the index of an input, -1 for the
    output; None for an array the op made for itself, or anything else it saved."""
    if a is node.data:
        return -1
    prev = node._prev
    for i, p in enumerate(prev):
        if a is p.data:
            return i
    if a.__class__ is not np.ndarray or a.base is None:
        return None
    base = a.base
    for i, t in enumerate((*prev, node)):
        if base is t.data or base is t.data.base:
            return i if t is not node else -1
    return None


def fingerprint_saved(node):
    """Fingerprints of what ``node``'s op saved, one per saved item (None for an item that
    is not some tensor's values, or that no needed gradient reads), or None when nothing
    needs checking."""
    op = node._op
    saved = op.saved
    if saved.__class__ is np.ndarray:  # one array (sigmoid, exp, log …): the usual case
        return None if _owner(saved, node) is None else (_fingerprint(saved),)
    if saved.__class__ is not tuple and saved.__class__ is not list:
        return None
    read = op.reads
    if read is not None:  # only what the gradients of the inputs that need one read
        read = ()
        for p, ks in zip(node._prev, op.reads):
            if p.requires_grad:
                read += ks
    prints = None
    for k, a in enumerate(saved):
        if (read is None or k in read) and _owner(a, node) is not None:
            if prints is None:
                prints = [None] * len(saved)
            prints[k] = _fingerprint(a)
    return prints


def _tensor_text(node, owner: int | None) -> str:
    """``'W1' (shape (784, 16), input 1 of matmul)``, ``input 0 of mul (shape (2,))`` or
    ``the output of sigmoid (shape (10, 16))``."""
    op = node._op.name
    if owner is None:  # no tensor of the node holds it any more (its .data was replaced)
        return f"an array that {op} saved"
    t = node if owner < 0 else node._prev[owner]
    role = f"the output of {op}" if owner < 0 else f"input {owner} of {op}"
    if t.name:
        return f"'{display_name(t.name)}' (shape {t.data.shape}, {role})"
    return f"{role} (shape {t.data.shape})"


def check_saved(node) -> None:
    """Raise :class:`GraphError` if an array that ``node``'s op saved for its gradient rule
    was changed in place since the forward pass (its fingerprint differs)."""
    for a, fp in zip(_items(node._op.saved), node._fingerprints):  # (zip stops at the shorter)
        if fp is not None and _fingerprint(a) != fp:
            what = _tensor_text(node, _owner(a, node))
            raise GraphError(
                f"backward: {what} was changed in place after the forward pass saved it for "
                f"the gradient of {node._op.name} (by t.data[...] = …, t.data += …, "
                "or optimizer.step() before backward()?): the gradient would be computed from "
                "values the forward pass never used. Run the forward pass again after changing "
                "it, or give the tensor new values without writing into the old ones "
                "(t.data = new_array)."
            )


def grads_tuple(node, in_grads) -> tuple:
    """What a gradient rule returned, as a tuple with one entry per input; a clear error when
    it is not that (the walk calls this only when ``in_grads`` is not already such a tuple)."""
    op = node._op.name
    n = len(node._prev)
    if isinstance(in_grads, (tuple, list)) and len(in_grads) == n:
        return tuple(in_grads)
    got = f"{len(in_grads)} values" if isinstance(in_grads, (tuple, list)) else type(in_grads).__name__
    raise GraphError(
        f"backward of {op}: the gradient rule must return a tuple with one gradient per input "
        f"({n}, None where not needed), got {got}"
    )


def grad_error(node, p, pg) -> MicrogradnetError:
    """The error for a gradient ``pg`` that does not fit the input ``p`` of ``node``: not an
    array, or not of ``p``'s shape (a gradient has its input's shape)."""
    op = node._op.name
    what = _tensor_text(node, next(i for i, q in enumerate(node._prev) if q is p))
    shape = getattr(pg, "shape", None)
    if shape is None:
        return DTypeError(
            f"backward of {op}: the gradient for {what} must be a numpy array, got {type(pg).__name__}"
        )
    return ShapeError(
        f"backward of {op}: the gradient for {what} has shape {tuple(shape)}, but the input has "
        f"shape {p.data.shape}; a gradient rule must return one gradient of each input's shape "
        "(sum a broadcast gradient back with microgradnet.ops.unbroadcast)"
    )
