"""to_onnx: the recorded graph as an ONNX file that onnxruntime runs to the same numbers."""

import sys

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.export import SUPPORTED_OPSETS, to_onnx
from microgradnet.export.onnx_export import ir_version_for
from microgradnet.export.torch_bridge import ExportError

TOL = {np.float32: 1e-5, np.float64: 1e-12}
SHAPES = [[4, 3, 2], [784, 16, 16, 10], [10, 32, 32, 3]]
ACTIVATIONS = [("sigmoid", "same"), ("relu", None), ("tanh", "softmax"), ("sigmoid", "softmax")]


@pytest.fixture
def onnx():
    return require("onnx")


@pytest.fixture
def ort(onnx):
    return require("onnxruntime")


def run(ort, path, x, input_name="input"):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {input_name: x})[0]


def engine(fn, x):
    with mg.no_grad():
        return fn(mg.Tensor(x)).data


def assert_close(got, want, dtype):
    """Equal within ``TOL`` relative to the size of the outputs."""
    tol = TOL[dtype]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(float(np.abs(want).max()), 1e-30))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,out_act", ACTIVATIONS)
@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_mlp_runs_in_onnxruntime_with_any_batch_size(ort, tmp_path, sizes, act, out_act, dtype):
    model = mg.nn.MLP(sizes, activation=act, output_activation=out_act, dtype=dtype, seed=5)
    rng = np.random.default_rng(0)
    example = rng.standard_normal((2, sizes[0])).astype(dtype)
    path = to_onnx(model, tmp_path / "m.onnx", example)
    for n in (7, 1):  # not the example's batch size
        x = rng.standard_normal((n, sizes[0])).astype(dtype)
        assert_close(run(ort, path, x), engine(model, x), dtype)


def test_file_layout(onnx, tmp_path):
    model = mg.nn.MLP([4, 3, 2], activation="relu", output_activation="softmax", seed=0)
    path = to_onnx(model, tmp_path / "m.onnx", np.zeros((1, 4), np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # written atomically, nothing left over
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert proto.ir_version == ir_version_for(17) == 8
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 17)]
    g = proto.graph
    assert [n.op_type for n in g.node] == ["MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    assert set(inits) == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
    for name, p in model.named_parameters():
        assert np.array_equal(inits[name], p.data)  # our layout, (in, out): MatMul(x, W)
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert [i.name for i in g.input] == ["input"] and dims(g.input[0]) == ["batch", 4]
    assert [o.name for o in g.output] == ["output"] and dims(g.output[0]) == ["batch", 2]


def test_names_opset_and_fixed_batch(onnx, ort, tmp_path):
    model = mg.nn.MLP([3, 2], activation="tanh", dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    path = to_onnx(
        model,
        tmp_path / "m.onnx",
        x,
        opset=13,
        input_name="pixels",
        output_name="scores",
        dynamic_batch=False,
    )
    proto = onnx.load(str(path))
    assert proto.ir_version == 7 and proto.opset_import[0].version == 13
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert_close(run(ort, path, x, "pixels"), engine(model, x), np.float64)


def test_a_function_that_is_not_an_mlp(ort, tmp_path):
    rng = np.random.default_rng(1)
    W = mg.Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    fn = lambda x: (x @ W).tanh().softmax()  # noqa: E731
    path = to_onnx(fn, tmp_path / "f.onnx", rng.standard_normal((2, 5)).astype(np.float32))
    x = rng.standard_normal((6, 5)).astype(np.float32)
    assert_close(run(ort, path, x), engine(fn, x), np.float32)


@pytest.mark.parametrize("opset", [13, 17, 18, max(SUPPORTED_OPSETS)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op_a_model_can_use(ort, tmp_path, opset, dtype):
    rng = np.random.default_rng(2)
    W = mg.Tensor(rng.standard_normal((6, 4)).astype(dtype), requires_grad=True, name="W")
    b = mg.Tensor(rng.standard_normal(4).astype(dtype), requires_grad=True)
    c = mg.Tensor(rng.uniform(1, 2, (1, 4)).astype(dtype))

    def fn(x):
        h = (x @ W + b).sigmoid()  # matmul, add_bias, sigmoid
        h = (h - 0.5) * 3 / c + (-h)  # sub, mul, div (broadcast row), neg
        h = h**2 + (h.exp() ** 0.5) + h.relu()  # pow 2 (Mul), pow 0.5 (Pow), exp, relu
        h = (h + 1.5).log() + h.tanh()  # log, tanh
        s = h.sum(axis=1, keepdims=True) + h.mean(axis=-1, keepdims=True)  # ReduceSum, ReduceMean
        h = h.reshape(-1, 2, 2).transpose(0, 2, 1)  # reshape keeping the batch, transpose (perm)
        h = h[:, 1:, ::-1].reshape(x.shape[0], 2) + s  # getitem slices, reshape by the batch size
        h = h[..., 0:2].log_softmax(axis=1) + h.sum(axis=0).mean()  # log_softmax, reduce over the batch
        return h.T.T  # transpose with no axes

    path = to_onnx(fn, tmp_path / "ops.onnx", rng.standard_normal((3, 6)).astype(dtype), opset=opset)
    x = rng.standard_normal((5, 6)).astype(dtype)
    assert_close(run(ort, path, x), engine(fn, x), dtype)


def test_parameters_of_a_function_are_named(onnx, tmp_path):
    W = mg.Tensor(np.ones((3, 2), np.float32), requires_grad=True, name="W")
    V = mg.Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    K = mg.Tensor(np.ones((3, 2), np.float32))
    path = to_onnx(lambda x: x @ W + x @ V + x @ K + x @ W, tmp_path / "f.onnx", np.zeros((1, 3), np.float32))
    names = [i.name for i in onnx.load(str(path)).graph.initializer]
    assert sorted(names) == ["W", "const_0", "param_0"]  # W used twice, stored once


def test_reductions_indexing_and_flattening_over_the_batch(ort, tmp_path):
    rng = np.random.default_rng(3)
    fns = {
        "scalar": lambda x: (x * x).sum(),
        "mean_keep": lambda x: x.mean(axis=0, keepdims=True),
        "flatten": lambda x: x.reshape(-1).exp(),
        "flatten_transposed": lambda x: x.T.reshape(-1),
        "rows_per_example": lambda x: x.reshape(-1, 2).sum(axis=1),
        "first_example": lambda x: x[0, 1:],
        "last_column": lambda x: x[:, -1],
        "cut_batch": lambda x: x[1:] * 2,
    }
    for name, fn in fns.items():
        path = to_onnx(fn, tmp_path / f"{name}.onnx", rng.standard_normal((3, 4)))
        for n in (3, 6):
            x = rng.standard_normal((n, 4))
            assert_close(run(ort, path, x), engine(fn, x), np.float64)


def test_mixed_dtypes_get_a_cast(ort, tmp_path):
    W = mg.Tensor(np.random.default_rng(4).standard_normal((3, 2)))  # float64
    fn = lambda x: (x @ W).relu()  # noqa: E731  (float32 input: numpy promotes to float64)
    path = to_onnx(fn, tmp_path / "f.onnx", np.ones((2, 3), np.float32))
    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    assert_close(run(ort, path, x), engine(fn, x), np.float64)


def test_example_is_cast_to_the_model_dtype(ort, tmp_path):
    model = mg.nn.MLP([3, 2], dtype=np.float64, seed=0)
    path = to_onnx(model, tmp_path / "m.onnx", np.zeros((1, 3), np.int64))
    x = np.ones((2, 3))
    assert_close(run(ort, path, x), engine(model, x), np.float64)


def test_identity_and_constant_results(ort, tmp_path):
    path = to_onnx(lambda x: x, tmp_path / "id.onnx", np.ones((2, 3)))
    x = np.arange(12.0).reshape(4, 3)
    assert np.array_equal(run(ort, path, x), x)


@pytest.mark.parametrize(
    "fn,needle",
    [
        (lambda x: mg.squared_error(x, np.zeros((2, 3), np.float32)), "'squared_error'"),
        (lambda x: mg.cross_entropy(x, np.array([0, 1])), "'cross_entropy'"),
        (lambda x: x[np.array([0, 0, 1])], r"'getitem' with index array\(\[0, 0, 1\]\)"),
        (lambda x: x[:, None], "'getitem'"),
        (lambda x: x[x.data > 0], "'getitem'"),
        (lambda x: x.T.reshape(2, 3), "mixes the batch axis"),
        (lambda x: 3.0, "returned float"),
    ],
)
def test_unsupported_ops_are_named(onnx, tmp_path, fn, needle):
    with pytest.raises(ExportError, match=needle):
        to_onnx(fn, tmp_path / "bad.onnx", np.ones((2, 3), np.float32))
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_model_with_its_cost_is_refused(onnx, tmp_path):
    model = mg.nn.MLP([3, 2], seed=0)
    with pytest.raises(ExportError, match="squared_error"):
        to_onnx(
            lambda x: mg.squared_error(model(x), np.array([0, 1])),
            tmp_path / "c.onnx",
            np.ones((2, 3), np.float32),
        )


def test_bad_arguments(onnx, tmp_path):
    model = mg.nn.MLP([3, 2])
    with pytest.raises(ExportError, match="opset 12 is not supported"):
        to_onnx(model, tmp_path / "m.onnx", np.ones((1, 3)), opset=12)
    with pytest.raises(ExportError, match="does not exist"):
        to_onnx(model, tmp_path / "no" / "m.onnx", np.ones((1, 3)))
    with pytest.raises(ExportError, match="model or a function"):
        to_onnx("model.npz", tmp_path / "m.onnx", np.ones((1, 3)))
    with pytest.raises(ExportError, match="must hold numbers"):
        to_onnx(model, tmp_path / "m.onnx", np.array([["a", "b", "c"]]))


def test_missing_onnx_is_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "microgradnet\[onnx\]"'):
        to_onnx(mg.nn.MLP([3, 2]), tmp_path / "m.onnx", np.ones((1, 3), np.float32))


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_non_finite_weights_are_not_exported(onnx, tmp_path, bad):
    model = mg.nn.MLP([4, 3, 2], seed=0)
    model.layers[1].weight.data[0, 1] = bad
    with pytest.raises(ExportError, match=r"to_onnx: layers.1.weight holds 1 (NaN|infinite) value"):
        to_onnx(model, tmp_path / "m.onnx", np.zeros((1, 4), np.float32))
    w = mg.Tensor(np.array([1.0, np.nan]), name="w")
    with pytest.raises(ExportError, match="to_onnx: w holds 1 NaN value"):
        to_onnx(lambda x: x * w, tmp_path / "f.onnx", np.zeros((3, 2)))
    assert list(tmp_path.iterdir()) == []
