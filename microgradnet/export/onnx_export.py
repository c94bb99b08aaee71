"""Write the graph the engine records as an ONNX model.

:func:`to_onnx` runs the model (or any function of one tensor) once on an example batch,
with the example marked as needing a gradient so that every op that depends on it is
recorded. It then walks the recorded graph in topological order — exactly the nodes
``backward()`` would visit — and writes one ONNX node per engine op:

    matmul → MatMul          add_bias, add → Add     sub, mul, div, neg → Sub, Mul, Div, Neg
    pow → Mul (p = 2) or Pow exp, log → Exp, Log     sigmoid, tanh, relu → Sigmoid, Tanh, Relu
    softmax, log_softmax → Softmax, LogSoftmax (axis)  sum, mean → ReduceSum, ReduceMean
    reshape → Reshape (0 keeps the batch size)   transpose → Transpose (perm)
    getitem with ints and slices → Slice / Gather

Leaves become initializers: a model's parameters under their parameter names
(``layers.0.weight``), other tensors under their ``name`` or ``param_k`` / ``const_k``. The
example becomes the graph input, its first axis the dynamic dimension ``batch``. The costs
(``squared_error``, ``cross_entropy``) and fancy indexing have no mapping: exporting them is
an error that names the op.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_bytes
from ..serialize import describe_nonfinite
from .torch_bridge import ExportError

INSTALL_ONNX = 'pip install "microgradnet[onnx]"'

# The lowest ONNX IR version that can carry each opset (what onnx's own release table
# pairs them with). onnxruntime >= 1.17, the version the [onnx] extra asks for, reads all.
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9}
SUPPORTED_OPSETS = tuple(sorted(_IR_FOR_OPSET))

_UNARY = {"neg": "Neg", "exp": "Exp", "log": "Log", "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
_BINARY = {"add": "Add", "add_bias": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "matmul": "MatMul"}
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper  # noqa: F401
    except ImportError:
        raise ImportError(
            f"exporting to ONNX needs the onnx package, which is not installed: {INSTALL_ONNX}"
        ) from None
    return onnx


def ir_version_for(opset: int) -> int:
    """The ONNX IR version :func:`to_onnx` writes for ``opset``."""
    if opset not in _IR_FOR_OPSET:
        raise ExportError(
            f"to_onnx: opset {opset!r} is not supported; choose one of "
            f"{', '.join(map(str, SUPPORTED_OPSETS))}"
        )
    return _IR_FOR_OPSET[opset]


def to_onnx(
    model_or_fn,
    path,
    example,
    *,
    opset: int = 17,
    input_name: str = "input",
    output_name: str = "output",
    dynamic_batch: bool = True,
) -> Path:
    """Export ``model_or_fn`` (a Module such as an ``MLP``, or any function of one Tensor) to
    an ONNX file at ``path``, by tracing one forward pass on ``example``.

    ``example`` is a batch (numpy array or Tensor) whose first axis is the batch; with
    ``dynamic_batch=True`` that axis is the symbolic dimension ``batch`` in the file, so any
    batch size runs. A model's input is cast to its parameters' dtype. ``opset`` is one of
    :data:`SUPPORTED_OPSETS` (default 17, written with IR version 8). The model is checked
    with ``onnx.checker`` and written atomically. Returns the path.

    Every engine op a model can use has a mapping (see the module docstring); an op without
    one — a cost such as ``squared_error``, or ``getitem`` with an array or ``None`` — is an
    :class:`ExportError` naming it, and so is a weight holding NaN or infinite values.
    """
    onnx = _onnx()
    from ..nn import Module
    from ..tensor import Tensor, enable_grad, topological_order

    if isinstance(opset, bool) or not isinstance(opset, int):
        raise ExportError(f"to_onnx: opset must be an int, got {opset!r}")
    ir_version = ir_version_for(opset)
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"to_onnx: the folder {path.parent} does not exist")
    if not callable(model_or_fn):
        raise ExportError(
            f"to_onnx: expected a model or a function of one tensor, got {type(model_or_fn).__name__}"
        )

    names: dict[int, str] = {}
    data = example.data if isinstance(example, Tensor) else np.asarray(example)
    if data.dtype.kind not in "fiub":
        raise ExportError(f"to_onnx: the example must hold numbers, got dtype {data.dtype}")
    if isinstance(model_or_fn, Module):
        params = list(model_or_fn.named_parameters())
        names.update((id(p), n) for n, p in params)
        if params and data.dtype != params[0][1].data.dtype:
            data = data.astype(params[0][1].data.dtype)
    if data.dtype.kind != "f":
        from ..tensor import get_default_dtype

        data = data.astype(get_default_dtype())
    x = Tensor(np.array(data, copy=True), requires_grad=True)
    with enable_grad():
        out = model_or_fn(x)
    if not isinstance(out, Tensor):
        raise ExportError(f"to_onnx: the model returned {type(out).__name__}, not a Tensor")

    g = _GraphBuilder(onnx, x, input_name, names, dynamic_batch and data.ndim >= 1, opset)
    if out is x or out.op is None:
        g.node("Identity", [g.value(out)], [output_name])
    else:
        order = topological_order(out)
        for t in order:
            g.emit(t, output_name if t is out else None)

    helper = onnx.helper
    elem = helper.np_dtype_to_tensor_dtype(x.data.dtype)
    inputs = [helper.make_tensor_value_info(input_name, elem, g.dims(x))]
    outputs = [
        helper.make_tensor_value_info(
            output_name, helper.np_dtype_to_tensor_dtype(out.data.dtype), g.dims(out)
        )
    ]
    graph = helper.make_graph(g.nodes, "microgradnet", inputs, outputs, initializer=g.initializers)
    from .. import __version__

    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="microgradnet",
        producer_version=__version__,
    )
    proto.ir_version = ir_version
    onnx.checker.check_model(proto, full_check=True)

    write_bytes(path, proto.SerializeToString())
    return path


class _GraphBuilder:
    """Collects ONNX nodes and initializers while walking the recorded graph.

    It also follows where the batch axis of the example goes (``self.batch[id(t)]``: the
    axis of ``t`` that is the batch, or None) so reshapes can keep it dynamic and the output
    can declare it. ``self.mixed`` marks tensors whose shape depends on the batch size in a
    way that is no single axis (after flattening the batch into another axis).
    """

    def __init__(self, onnx, x, input_name, names, dynamic, opset):
        self.onnx = onnx
        self.opset = opset
        self.h = onnx.helper
        self.nodes, self.initializers = [], []
        self.dynamic = dynamic
        self.names = dict(names)  # id(leaf) -> wanted initializer name
        self.values = {id(x): input_name}
        self.used = {input_name}
        self.batch = {id(x): 0 if dynamic else None}
        self.mixed = set()
        self.count = {"param": 0, "const": 0}
        self.keep = [x]  # keep traced tensors alive: ids must stay unique

    # ----- names and constants -----------------------------------------------------------
    def _unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def const(self, array, base: str) -> str:
        """An initializer holding ``array``; returns its name."""
        name = self._unique(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def value(self, t) -> str:
        """The ONNX name of tensor ``t``, making an initializer for a leaf seen the first time."""
        key = id(t)
        if key not in self.values:
            if t.op is not None:  # pragma: no cover - topological order visits inputs first
                raise ExportError(f"to_onnx: internal error: {t.op.name} used before it was computed")
            wanted = self.names.get(key) or t.name
            if wanted:
                base = wanted
            else:
                kind = "param" if t.requires_grad else "const"
                base = f"{kind}_{self.count[kind]}"
                self.count[kind] += 1
            problem = describe_nonfinite(base, t.data)
            if problem:
                raise ExportError(
                    f"to_onnx: {problem}: the exported model would compute NaN; "
                    "train it again with a smaller learning rate"
                )
            self.values[key] = self.const(t.data, base)
            self.batch[key] = None
            self.keep.append(t)
        return self.values[key]

    def node(self, op_type, inputs, outputs, **attrs):
        self.nodes.append(
            self.h.make_node(op_type, inputs, outputs, name=f"{op_type}_{len(self.nodes)}", **attrs)
        )

    def dims(self, t):
        """Declared shape of a graph input/output: ``batch`` on the batch axis, None where unknown."""
        if id(t) in self.mixed:
            return [None] * t.data.ndim
        b = self.batch.get(id(t))
        return ["batch" if i == b else int(n) for i, n in enumerate(t.data.shape)]

    # ----- one engine op -------------------------------------------------------------------
    def emit(self, t, final_name=None):
        op = t.op
        name = op.name
        ins = t.inputs
        out = final_name or self._unique(f"{name}_{len(self.nodes)}")
        self.values[id(t)] = out
        self.keep.append(t)
        mixed = any(id(i) in self.mixed for i in ins)
        in_names = [self.value(i) for i in ins]
        in_names = [self._cast(n, i.data.dtype, t.data.dtype) for n, i in zip(in_names, ins)]
        nd = t.data.ndim

        if name in _BINARY:
            self.node(_BINARY[name], in_names, [out])
            self.batch[id(t)] = self._binary_batch(t, ins)
        elif name in _UNARY:
            self.node(_UNARY[name], in_names, [out])
            self.batch[id(t)] = self.batch.get(id(ins[0]))
        elif name == "pow":
            p = op.p
            if p == 2:
                self.node("Mul", [in_names[0], in_names[0]], [out])
            else:
                self.node(
                    "Pow", [in_names[0], self.const(np.asarray(p, dtype=t.data.dtype), "pow_exponent")], [out]
                )
            self.batch[id(t)] = self.batch.get(id(ins[0]))
        elif name in ("softmax", "log_softmax"):
            axis = int(op.axis) % nd
            self.node("Softmax" if name == "softmax" else "LogSoftmax", in_names, [out], axis=axis)
            self.batch[id(t)] = self.batch.get(id(ins[0]))
        elif name in ("sum", "mean"):
            mixed = self._reduce(t, op, in_names[0], out, mixed)
        elif name == "reshape":
            mixed = self._reshape(t, in_names[0], out, mixed)
        elif name == "transpose":
            in_nd = ins[0].data.ndim
            perm = list(range(in_nd))[::-1] if op.axes is None else [int(a) % in_nd for a in op.axes]
            self.node("Transpose", in_names, [out], perm=perm)
            b = self.batch.get(id(ins[0]))
            self.batch[id(t)] = None if b is None else perm.index(b)
        elif name == "getitem":
            mixed = self._getitem(t, op.index, in_names[0], out) or mixed
        elif name in ("squared_error", "cross_entropy"):
            raise ExportError(
                f"to_onnx: the op '{name}' (a cost) has no ONNX mapping: export the model's "
                "output, not the cost of it"
            )
        else:
            raise ExportError(f"to_onnx: the op '{op.describe()}' has no ONNX mapping")
        if mixed:
            self.mixed.add(id(t))
            self.batch[id(t)] = None

    def _cast(self, name, have, want):
        if have == want:
            return name
        cast = self._unique(f"{name}_as_{want}")
        self.node("Cast", [name], [cast], to=self.h.np_dtype_to_tensor_dtype(np.dtype(want)))
        return cast

    def _binary_batch(self, t, ins):
        nd = t.data.ndim
        for i in ins:
            b = self.batch.get(id(i))
            if b is None:
                continue
            if t.op.name == "matmul":
                a, w = ins
                if i is a and a.data.ndim >= 2 and b < a.data.ndim - 1:
                    return b + nd - a.data.ndim
                if i is w and w.data.ndim >= 2 and b == w.data.ndim - 1:
                    return nd - 1
                if i is w and w.data.ndim > 2 and b < w.data.ndim - 2:
                    return b + nd - w.data.ndim
                continue  # the batch axis was summed over: the result has no batch axis
            return b + nd - i.data.ndim
        return None

    def _reduce(self, t, op, x, out, mixed):
        src = t.inputs[0]
        nd = src.data.ndim
        if op.axis is None:
            axes = list(range(nd))
        else:
            axes = sorted({int(a) % nd for a in ((op.axis,) if np.ndim(op.axis) == 0 else op.axis)})
        kind = "ReduceSum" if op.name == "sum" else "ReduceMean"
        keep = int(bool(op.keepdims))
        # ReduceSum takes its axes as an input from opset 13, ReduceMean from opset 18.
        axes_as_input = kind == "ReduceSum" or self.opset >= 18
        if not axes:  # a 0-d input: nothing to reduce
            self.node("Identity", [x], [out])
        elif axes_as_input:
            self.node(
                kind,
                [x, self.const(np.asarray(axes, dtype=np.int64), f"{op.name}_axes")],
                [out],
                keepdims=keep,
            )
        else:
            self.node(kind, [x], [out], axes=axes, keepdims=keep)
        b = self.batch.get(id(src))
        if len(axes) == nd and not keep:
            self.batch[id(t)] = None
            return False  # a single number, whatever the batch size
        if b is None or b in axes:
            self.batch[id(t)] = None  # a reduction over the batch axis gives a fixed shape again
            return mixed and not (b is not None and b in axes)
        self.batch[id(t)] = b if keep else b - sum(1 for a in axes if a < b)
        return mixed

    def _reshape(self, t, x, out, mixed):
        src = t.inputs[0]
        b = self.batch.get(id(src))
        new = [int(n) for n in t.data.shape]
        if b is None and not mixed:
            shape = new  # nothing depends on the batch size
            self.batch[id(t)] = None
        elif b == 0 and new and new[0] == src.data.shape[0] and not mixed:
            shape = [0] + new[1:]  # 0: copy the batch size from the input
            self.batch[id(t)] = 0
        elif b == 0 and new and src.data.shape[0] and new[0] % src.data.shape[0] == 0 and not mixed:
            shape = [-1] + new[1:]  # whole examples cut into several rows each
            self.batch[id(t)] = None
            mixed = True
        elif t.data.ndim == 1:
            shape = [-1]  # flatten everything, batch included
            self.batch[id(t)] = None
            mixed = True
        else:
            raise ExportError(
                f"to_onnx: the op '{t.op.describe()}' mixes the batch axis with other axes; "
                "export with dynamic_batch=False for a fixed batch size"
            )
        self.node("Reshape", [x, self.const(np.asarray(shape, dtype=np.int64), "reshape_shape")], [out])
        return mixed

    def _getitem(self, t, index, x, out):
        src = t.inputs[0]
        parts = index if isinstance(index, tuple) else (index,)
        simple = all(
            p is Ellipsis
            or isinstance(p, slice)
            or (isinstance(p, (int, np.integer)) and not isinstance(p, bool))
            for p in parts
        )
        if (
            not simple
            or sum(p is Ellipsis for p in parts) > 1
            or any(
                isinstance(p, slice)
                and not all(v is None or isinstance(v, (int, np.integer)) for v in (p.start, p.stop, p.step))
                for p in parts
            )
        ):
            raise ExportError(
                f"to_onnx: the op 'getitem' with index {index!r} has no ONNX mapping here: only "
                "ints, slices and ... are exported (no arrays, masks or None)"
            )
        nd = src.data.ndim
        if Ellipsis in [p for p in parts if p is Ellipsis]:
            k = next(i for i, p in enumerate(parts) if p is Ellipsis)
            fill = nd - (len(parts) - 1)
            parts = parts[:k] + (slice(None),) * fill + parts[k + 1 :]
        parts = (*parts, *[slice(None)] * (nd - len(parts)))  # every axis spelled out
        b = self.batch.get(id(src))
        starts, ends, axes, steps = [], [], [], []
        for axis, p in enumerate(parts):
            if isinstance(p, slice) and p != slice(None) and p != slice(None, None, 1):
                step = 1 if p.step is None else int(p.step)
                start = p.start if p.start is not None else (0 if step > 0 else -1)
                stop = p.stop if p.stop is not None else (_INT64_MAX if step > 0 else _INT64_MIN)
                starts.append(int(start))
                ends.append(int(stop))
                axes.append(axis)
                steps.append(step)
        cur = x
        if axes:
            cur = out if not any(isinstance(p, (int, np.integer)) for p in parts) else self._unique("slice")
            i64 = lambda v, n: self.const(np.asarray(v, dtype=np.int64), n)  # noqa: E731
            self.node(
                "Slice",
                [
                    x,
                    i64(starts, "slice_starts"),
                    i64(ends, "slice_ends"),
                    i64(axes, "slice_axes"),
                    i64(steps, "slice_steps"),
                ],
                [cur],
            )
        ints = [(axis, int(p)) for axis, p in enumerate(parts) if isinstance(p, (int, np.integer))]
        if not axes and not ints:
            self.node("Identity", [x], [out])
        for j, (axis, i) in enumerate(reversed(ints)):  # highest axis first: lower ones keep their place
            nxt = out if j == len(ints) - 1 else self._unique("gather")
            self.node("Gather", [cur, self.const(np.asarray(i, dtype=np.int64), "index")], [nxt], axis=axis)
            cur = nxt
        if b is None or isinstance(parts[b], (int, np.integer)):
            self.batch[id(t)] = None  # one example picked: a fixed shape
            return False
        self.batch[id(t)] = None if b in axes else b - sum(1 for a, _ in ints if a < b)
        return b in axes  # a cut batch axis: its size depends on the batch
