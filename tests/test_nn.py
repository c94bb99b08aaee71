"""nn: Linear, activations, Sequential, MLP — sizes, names, dtypes, seeds, graphs, state dicts
and learning a small problem."""

import numpy as np
import pytest

import microgradnet as mg
from microgradnet import nn

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


# ============================================================================ sizes and names


def test_mnist_mlp_has_13002_parameters():
    m = nn.MLP([784, 16, 16, 10], seed=0)
    assert m.num_parameters() == 13002 == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    s = m.summary()
    assert "13,002" in s and "784-16-16-10" in s
    assert "12,560" in s and "272" in s and "170" in s  # per-layer totals
    assert "13,002" in nn.Module.summary(m)


def test_named_parameters_and_shapes():
    m = nn.MLP([784, 16, 16, 10], seed=0)
    named = list(m.named_parameters())
    assert [n for n, _ in named] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    shapes = {n: p.shape for n, p in named}
    assert shapes["layers.0.weight"] == (784, 16) and shapes["layers.0.bias"] == (16,)
    assert shapes["layers.1.weight"] == (16, 16) and shapes["layers.2.weight"] == (16, 10)
    assert shapes["layers.2.bias"] == (10,)
    params = m.parameters()
    assert len(params) == 6 and all(isinstance(p, nn.Parameter) for p in params)
    assert all(p.requires_grad and p.is_leaf for p in params)
    assert params[0] is m.layers[0].weight and params[1] is m.layers[0].bias
    mods = dict(m.named_modules())
    assert mods[""] is m and [mods[f"layers.{i}"] for i in range(3)] == m.layers
    assert isinstance(mods["layers.0.activation"], nn.Sigmoid)


def test_linear_weight_is_in_by_out_and_bias_starts_at_zero():
    lin = nn.Linear(5, 3, seed=0)
    assert lin.weight.shape == (5, 3) and lin.bias.shape == (3,)
    np.testing.assert_array_equal(lin.bias.data, 0)
    limit = np.sqrt(6 / 8)
    assert np.abs(lin.weight.data).max() <= limit and lin.weight.data.std() > 0
    relu = nn.Linear(400, 300, activation="relu", seed=0)
    assert relu.weight.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    normal = nn.Linear(200, 300, init="normal", seed=0)
    assert normal.weight.data.std() == pytest.approx(1.0, rel=0.05)
    assert normal.bias.data.std() > 0.5


# ============================================================================ dtype


def test_default_dtype_float32_and_float64_end_to_end():
    m = nn.MLP([3, 4, 2], seed=0)
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert m.config()["dtype"] == "float32"
    out = m(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32

    m64 = nn.MLP([3, 4, 2], dtype=np.float64, seed=0)
    assert all(p.dtype == np.float64 for p in m64.parameters())
    # same seed: the float64 weights are the float32 weights, more precisely
    np.testing.assert_allclose(m64.layers[0].weight.data, m.layers[0].weight.data, rtol=1e-6)
    x = np.random.default_rng(0).standard_normal((5, 3))
    cost = mg.squared_error(m64(x), np.array([0, 1, 1, 0, 1]))
    assert cost.dtype == np.float64
    cost.backward()
    assert all(p.grad is not None and p.grad.dtype == np.float64 for p in m64.parameters())
    mg.optim.SGD(m64.parameters(), lr=0.1).step()
    assert all(p.dtype == np.float64 for p in m64.parameters())


def test_float32_model_grads_are_float32():
    m = nn.MLP([3, 4, 2], seed=0)
    mg.cross_entropy(m(np.ones((2, 3))), [0, 1]).backward()
    assert all(p.grad.dtype == np.float32 for p in m.parameters())


def test_float64_array_into_float32_model_gives_float32():
    m = nn.MLP([3, 4, 2], seed=0)
    x = np.random.default_rng(1).standard_normal((4, 3))  # float64
    out = m(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, m(x.astype(np.float32)).data, rtol=1e-6)
    assert m(np.array([[1, 2, 3]])).dtype == np.float32  # int array too


def test_linear_rejects_bad_dtype():
    with pytest.raises(mg.DTypeError, match="float32 or float64"):
        nn.Linear(2, 3, dtype=np.int32)
    with pytest.raises(mg.DTypeError, match="dtype"):
        nn.Linear(2, 3)(np.array([["a", "b"]]))


# ============================================================================ seeds


def test_same_seed_same_weights_different_seed_different():
    a = nn.MLP([6, 5, 3], seed=42)
    b = nn.MLP([6, 5, 3], seed=42)
    c = nn.MLP([6, 5, 3], seed=43)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.layers[0].weight.data, c.layers[0].weight.data)
    assert not np.array_equal(a.layers[1].weight.data, c.layers[1].weight.data)
    # layers of one network get different weights (one generator walks through them)
    sq = nn.MLP([4, 4, 4], seed=0)
    assert not np.array_equal(sq.layers[0].weight.data, sq.layers[1].weight.data)
    assert np.array_equal(nn.Linear(3, 2, seed=5).weight.data, nn.Linear(3, 2, seed=5).weight.data)


# ============================================================================ graph


@pytest.mark.parametrize(
    "act,name", [("sigmoid", "sigmoid"), ("relu", "relu"), ("tanh", "tanh"), ("softmax", "softmax")]
)
def test_linear_records_matmul_then_add_bias_then_activation(act, name):
    lin = nn.Linear(3, 2, activation=act, seed=0)
    x = mg.Tensor(np.ones((4, 3), dtype=np.float32))
    out = lin(x)
    assert out.op.name == name
    (z,) = out.inputs
    assert z.op.name == "add_bias"
    mm, b = z.inputs
    assert b is lin.bias
    assert mm.op.name == "matmul"
    assert mm.inputs[0] is x and mm.inputs[1] is lin.weight
    np.testing.assert_allclose(z.data, x.data @ lin.weight.data + lin.bias.data, rtol=1e-6)


def test_linear_without_activation_ends_at_add_bias():
    for act in (None, "none", "identity", "linear", nn.Identity()):
        lin = nn.Linear(3, 2, activation=act, seed=0)
        out = lin(np.ones((1, 3)))
        assert out.op.name == "add_bias" and lin.activation is None


def test_mlp_graph_reads_layer_by_layer():
    m = nn.MLP([3, 4, 2], activation="relu", output_activation=None, seed=0)
    out = m(np.ones((2, 3)))
    names = []
    t = out
    while t.op is not None:
        names.append(t.op.name)
        t = t.inputs[0]
    assert names == ["add_bias", "matmul", "relu", "add_bias", "matmul"]
    assert out._scope is m.layers[1]


def test_model_accepts_numpy_arrays_lists_and_tensors():
    m = nn.MLP([3, 4, 2], seed=0)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    a = m(x)
    b = m(mg.Tensor(x))
    c = m(x.tolist())
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(a.data, c.data, rtol=1e-6)
    single = m(x[0])
    assert single.shape == (2,)
    np.testing.assert_allclose(single.data, a.data[0], rtol=1e-6)
    # a Tensor input that requires grad gets its gradient
    xt = mg.Tensor(x, requires_grad=True)
    m(xt).sum().backward()
    assert xt.grad.shape == x.shape


def test_wrong_feature_count_raises_shape_error_naming_linear_and_shape():
    m = nn.MLP([784, 16, 10], seed=0)
    with pytest.raises(mg.ShapeError) as e:
        m(np.zeros((3, 783), dtype=np.float32))
    msg = str(e.value)
    assert "Linear" in msg and "(3, 783)" in msg and "784" in msg
    with pytest.raises(mg.ShapeError, match="Linear"):
        m(np.float32(1.0))


def test_mlp_softmax_output_rows_sum_to_one():
    m = nn.MLP([3, 5, 4], activation="tanh", output_activation="softmax", seed=0)
    out = m(np.random.default_rng(0).standard_normal((6, 3)))
    np.testing.assert_allclose(out.data.sum(axis=1), 1.0, rtol=1e-6)
    assert out.op.name == "softmax"
    assert m.config() == {
        "kind": "MLP",
        "sizes": [3, 5, 4],
        "activation": "tanh",
        "output_activation": "softmax",
        "dtype": "float32",
    }


def test_sequential_and_activation_modules():
    seq = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 1, seed=1), nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[0], nn.Linear)
    out = seq(np.ones((2, 2)))
    assert out.op.name == "sigmoid" and out.shape == (2, 1)
    assert [n for n, _ in seq.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    np.testing.assert_array_equal(nn.ReLU()(np.array([-1.0, 2.0])).data, [0, 2])
    with pytest.raises(TypeError, match="item 1"):
        nn.Sequential(nn.Linear(2, 2), "relu")
    assert isinstance(nn.activation("ReLU"), nn.ReLU)
    assert nn.get_activation(None) is None


def test_module_zero_grad():
    m = nn.MLP([2, 3, 1], seed=0)
    m(np.ones((1, 2))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# ============================================================================ state dict


def test_state_dict_round_trip():
    a = nn.MLP([4, 5, 3], seed=0)
    b = nn.MLP([4, 5, 3], seed=1)
    sd = a.state_dict()
    assert list(sd) == [n for n, _ in a.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    # the state is a copy: changing it does not touch the model
    sd["layers.0.bias"][:] = 123.0
    assert not np.any(a.layers[0].bias.data == 123.0)
    sd = a.state_dict()
    b.load_state_dict(sd)
    x = np.random.default_rng(3).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # the loaded model does not share memory with the state dict or the source
    w_b = b.layers[0].weight
    assert not np.shares_memory(w_b.data, a.layers[0].weight.data)
    assert not np.shares_memory(w_b.data, sd["layers.0.weight"])


def test_load_state_dict_accepts_tensors_and_keeps_parameter_identity():
    a = nn.MLP([2, 3], seed=0)
    b = nn.MLP([2, 3], seed=1)
    w = b.layers[0].weight
    b.load_state_dict({n: mg.Tensor(p.data) for n, p in a.named_parameters()})
    assert b.layers[0].weight is w  # optimizers keep pointing at the same parameters
    np.testing.assert_array_equal(w.data, a.layers[0].weight.data)


def _snapshot(model):
    return {n: p.data.copy() for n, p in model.named_parameters()}


def _assert_unchanged(model, snap):
    for n, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, snap[n], err_msg=n)


def test_load_state_dict_shape_mismatch_leaves_model_unchanged():
    m = nn.MLP([4, 5, 3], seed=0)
    snap = _snapshot(m)
    good = nn.MLP([4, 5, 3], seed=9).state_dict()
    bad = dict(good)
    bad["layers.1.weight"] = np.zeros((5, 4), dtype=np.float32)  # last one checked; earlier ones fine
    with pytest.raises(mg.ModelFileError) as e:
        m.load_state_dict(bad)
    msg = str(e.value)
    assert "layers.1.weight" in msg and "(5, 4)" in msg and "(5, 3)" in msg
    _assert_unchanged(m, snap)


def test_load_state_dict_missing_and_extra_keys_leave_model_unchanged():
    m = nn.MLP([4, 5, 3], seed=0)
    snap = _snapshot(m)
    sd = nn.MLP([4, 5, 3], seed=9).state_dict()
    missing = dict(sd)
    del missing["layers.1.bias"]
    with pytest.raises(mg.ModelFileError, match="missing layers.1.bias"):
        m.load_state_dict(missing)
    _assert_unchanged(m, snap)
    extra = dict(sd, **{"layers.2.weight": np.zeros((3, 3))})
    with pytest.raises(mg.ModelFileError, match="unexpected layers.2.weight"):
        m.load_state_dict(extra)
    _assert_unchanged(m, snap)
    bad_dtype = dict(sd, **{"layers.1.bias": np.array(["a", "b", "c"])})
    with pytest.raises(mg.ModelFileError, match="layers.1.bias"):
        m.load_state_dict(bad_dtype)
    _assert_unchanged(m, snap)
    # strict=False: load what is there, ignore the rest
    m.load_state_dict(missing, strict=False)
    np.testing.assert_array_equal(m.layers[0].weight.data, sd["layers.0.weight"])
    np.testing.assert_array_equal(m.layers[1].bias.data, snap["layers.1.bias"])


# ============================================================================ invalid arguments


@pytest.mark.parametrize("sizes", [[784], [], [3, 0, 2], [3, -1], [2.5, 3], [True, 3], "784,10", [3, "4"]])
def test_invalid_mlp_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP(sizes)


@pytest.mark.parametrize(
    "kwargs", [{"activation": "swish"}, {"output_activation": "sofmax"}, {"activation": 3}]
)
def test_invalid_activation_names(kwargs):
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 3, 1], **kwargs)


@pytest.mark.parametrize("args", [(0, 3), (3, 0), (-1, 2), (2.0, 3), (True, 2)])
def test_invalid_linear_sizes(args):
    with pytest.raises(ValueError, match="Linear"):
        nn.Linear(*args)


def test_invalid_linear_init_and_activation():
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 3, init="xavier")
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Linear(2, 3, activation="gelu")


# ============================================================================ learning


def _train(model, loss, lr, steps):
    opt = mg.optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(steps):
        cost = loss(model(XOR_X), XOR_Y)
        opt.zero_grad()
        cost.backward()
        opt.step()
        costs.append(float(cost.data))
    with mg.no_grad():
        pred = model(XOR_X).data.argmax(axis=1)
    return costs, pred


@pytest.mark.parametrize("seed", [0, 1])
def test_mlp_learns_xor_with_sgd_and_squared_error(seed):
    m = nn.MLP([2, 8, 2], activation="tanh", output_activation="sigmoid", seed=seed)
    costs, pred = _train(m, mg.squared_error, lr=2.0, steps=500)
    np.testing.assert_array_equal(pred, XOR_Y)
    assert costs[-1] < 0.05 < costs[0]


def test_sigmoid_mlp_learns_xor():
    m = nn.MLP([2, 8, 2], seed=3)
    costs, pred = _train(m, mg.squared_error, lr=5.0, steps=1000)
    np.testing.assert_array_equal(pred, XOR_Y)
    assert costs[-1] < costs[0] / 10


def test_cross_entropy_with_raw_outputs_learns_xor():
    m = nn.MLP([2, 8, 2], activation="tanh", output_activation=None, seed=0)
    assert m.config()["output_activation"] == "none"
    costs, pred = _train(m, mg.cross_entropy, lr=0.5, steps=300)
    np.testing.assert_array_equal(pred, XOR_Y)
    assert costs[-1] < 0.05 and costs[0] > 0.5


def test_fit_and_evaluate_on_xor():
    m = nn.MLP([2, 8, 2], activation="tanh", output_activation=None, seed=0)
    x = np.tile(XOR_X, (4, 1))
    y = np.tile(XOR_Y, 4)
    hist = mg.fit(m, (x, y), epochs=40, lr=0.5, batch_size=4, loss="cross_entropy", progress=False)
    assert len(hist.cost) == 40 and hist.cost[-1] < hist.cost[0]
    ev = mg.evaluate(m, (x, y), loss="cross_entropy")
    assert ev.accuracy == 1.0 and ev.n == 16
