"""Tensor semantics: dtypes, backward, accumulation, graph release, no_grad, memory, stability
and error messages."""

import gc
import math
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import microgradnet as mg


def f32(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


# ============================================================================ dtype rules

F32_OPS = {
    "mul_scalar": lambda x: x * 2.5,
    "rmul_scalar": lambda x: 2.5 * x,
    "rsub_scalar": lambda x: 1 - x,
    "sub_scalar": lambda x: x - 0.1,
    "add_scalar": lambda x: x + 3,
    "radd_scalar": lambda x: 3.5 + x,
    "div_scalar": lambda x: x / 3,
    "rdiv_scalar": lambda x: 1.0 / (x * x + 1),
    "pow2": lambda x: x**2,
    "pow3": lambda x: x**3,
    "pow_half": lambda x: (x * x + 1) ** 0.5,
    "pow_neg": lambda x: (x * x + 1) ** -1,
    "neg": lambda x: -x,
    "f64_const_mul": lambda x: x * np.full((2, 3), 0.5, dtype=np.float64),
    "f64_const_rmul": lambda x: np.full((2, 3), 0.5, dtype=np.float64) * x,
    "f64_const_add": lambda x: np.linspace(0, 1, 3) + x,
    "f64_const_sub": lambda x: x - np.float64(0.25),
    "f64_const_matmul": lambda x: x @ np.ones((3, 4), dtype=np.float64),
    "f64_const_rmatmul": lambda x: np.ones((4, 2), dtype=np.float64) @ x,
    "int_const": lambda x: x * np.array([1, 2, 3]),
    "list_const": lambda x: x + [1.0, 2.0, 3.0],
    "matmul": lambda x: x @ x.T,
    "add_bias": lambda x: x.add_bias(np.zeros(3)),
    "sum": lambda x: x.sum(),
    "sum_axis": lambda x: x.sum(axis=0),
    "mean": lambda x: x.mean(),
    "mean_axis": lambda x: x.mean(axis=1, keepdims=True),
    "reshape": lambda x: x.reshape(-1),
    "transpose": lambda x: x.T,
    "getitem": lambda x: x[np.array([0, 0, 1])],
    "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 1).log(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(0),
    "squared_error_f64_target": lambda x: mg.squared_error(x, np.zeros((2, 3), dtype=np.float64)),
    "squared_error_labels": lambda x: mg.squared_error(x, np.array([0, 2])),
    "cross_entropy": lambda x: mg.cross_entropy(x, np.array([1, 2])),
    "cross_entropy_probs": lambda x: mg.cross_entropy(x, np.full((2, 3), 1 / 3)),
    "0d_scalar_chain": lambda x: x.sum() * 2.5 + 1,
    "0d_tensor_mul": lambda x: x.mean() * x,
}


@pytest.mark.parametrize("name", sorted(F32_OPS))
def test_float32_stays_float32_through_every_op(name):
    x = mg.Tensor(f32(2, 3, seed=1), requires_grad=True)
    out = F32_OPS[name](x)
    assert out.dtype == np.float32, f"{name}: result is {out.dtype}"
    out.sum().backward() if out.ndim else out.backward()
    assert x.grad is not None and x.grad.dtype == np.float32, f"{name}: grad is {x.grad.dtype}"
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("name", sorted(F32_OPS))
def test_float32_intermediate_grads_stay_float32(name):
    """Every gradient the backward walk computes (kept with keep_grads) is float32, not only the
    leaves' (which a cast at the end could fix up)."""
    from microgradnet.tensor import topological_order

    x = mg.Tensor(f32(2, 3, seed=2), requires_grad=True)
    h = x * 1.5
    out = F32_OPS[name](h)
    cost = out.sum() * 1.0
    cost.backward(keep_grads=True)
    nodes = topological_order(cost)
    assert h in nodes and out in nodes
    for node in nodes:
        assert node.grad is not None and node.grad.dtype == np.float32, (
            f"{name}: grad of {node.op.name} is {node.grad.dtype}"
        )


@pytest.mark.parametrize("name", sorted(F32_OPS))
def test_float64_stays_float64_through_every_op(name):
    x = mg.Tensor(f32(2, 3, seed=1).astype(np.float64), requires_grad=True)
    out = F32_OPS[name](x)
    assert out.dtype == np.float64, f"{name}: result is {out.dtype}"
    out.sum().backward()
    assert x.grad.dtype == np.float64


def test_zero_d_results_are_arrays_of_the_tensor_dtype():
    for dt in (np.float32, np.float64):
        x = mg.Tensor(np.ones((2, 2), dtype=dt), requires_grad=True)
        for out in (x.sum(), x.mean(), mg.squared_error(x, np.zeros((2, 2))), mg.cross_entropy(x, [0, 1])):
            assert out.shape == () and out.dtype == dt
            assert isinstance(out.data, np.ndarray)


def test_float16_array_keeps_its_dtype_and_float_arrays_share_memory():
    a = np.ones(3, dtype=np.float32)
    t = mg.Tensor(a)
    assert t.dtype == np.float32 and np.shares_memory(t.data, a)
    assert mg.Tensor(np.ones(2, dtype=np.float64)).dtype == np.float64


@pytest.mark.parametrize(
    "data",
    [
        1.5,
        3,
        [1, 2, 3],
        [[1.0, 2.0]],
        np.array([1, 2], dtype=np.int64),
        np.array([1, 2], dtype=np.uint8),
        True,
        np.array([True, False]),
    ],
)
def test_python_numbers_lists_and_int_arrays_get_the_default_dtype(data):
    assert mg.get_default_dtype() == np.float32
    assert mg.Tensor(data).dtype == np.float32
    assert mg.tensor(data).dtype == np.float32
    assert mg.as_tensor(data).dtype == np.float32
    mg.set_default_dtype(np.float64)
    assert mg.get_default_dtype() == np.float64
    assert mg.Tensor(data).dtype == np.float64
    # float arrays keep their own dtype whatever the default
    assert mg.Tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32


def test_explicit_dtype_argument():
    assert mg.Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert mg.Tensor(np.zeros(2, dtype=np.float64), dtype=np.float32).dtype == np.float32
    with pytest.raises(mg.DTypeError, match="float32 or float64"):
        mg.Tensor([1, 2], dtype=np.int32)


def test_set_default_dtype_rejects_non_floats():
    with pytest.raises(mg.DTypeError, match="float32 or float64"):
        mg.set_default_dtype(np.int64)
    assert mg.get_default_dtype() == np.float32


@pytest.mark.parametrize(
    "bad,word",
    [
        ("abc", "<U3"),
        (["a", "b"], "<U1"),
        (np.array([object()]), "object"),
        (np.array([1 + 2j]), "complex"),
        (1 + 2j, "complex"),
        (None, "object"),
        ({"a": 1}, "dict"),
    ],
)
def test_bad_input_types_raise_dtype_error_with_a_useful_message(bad, word):
    with pytest.raises(mg.DTypeError) as e:
        mg.Tensor(bad)
    msg = str(e.value)
    assert "Tensor" in msg and word in msg and "expected numbers" in msg
    assert isinstance(e.value, TypeError)  # still catchable as the built-in


def test_bad_constants_in_ops_raise_dtype_error():
    x = mg.Tensor(np.ones(3, dtype=np.float32))
    with pytest.raises(mg.DTypeError, match="str"):
        x + "a"
    with pytest.raises(mg.DTypeError, match="complex"):
        x * np.array([1j, 1j, 1j])
    with pytest.raises(mg.DTypeError, match="exponent"):
        x**x
    with pytest.raises(mg.DTypeError, match="exponent"):
        2**x
    with pytest.raises(mg.DTypeError, match="requires_grad"):
        mg.Tensor([1.0], requires_grad="yes")


# ============================================================================ backward basics


def test_backward_on_a_scalar_seeds_one():
    x = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    z = mg.Tensor(np.array(4.0), requires_grad=True)
    z.backward()
    assert z.grad == 1.0 and z.grad.shape == ()


def test_backward_on_a_one_element_non_0d_tensor():
    x = mg.Tensor(np.array([[3.0]]), requires_grad=True)
    (x * 2.0).backward()
    np.testing.assert_array_equal(x.grad, [[2.0]])


def test_backward_non_scalar_without_gradient_names_the_shape():
    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(mg.GraphError, match=r"\(2, 3\)") as e:
        (x * 2.0).backward()
    assert "gradient" in str(e.value)
    assert x.grad is None


def test_backward_with_explicit_gradient():
    x = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    g = np.array([1.0, 10.0, 100.0])
    (x * x).backward(gradient=g)
    np.testing.assert_array_equal(x.grad, 2 * np.array([1.0, 2.0, 3.0]) * g)
    y = mg.Tensor(np.ones(3), requires_grad=True)
    (y * 3.0).backward(mg.Tensor(g))
    np.testing.assert_array_equal(y.grad, 3 * g)
    assert g.tolist() == [1.0, 10.0, 100.0]  # the seed is not modified
    with pytest.raises(mg.ShapeError, match=r"\(2,\).*\(3,\)"):
        (y * 3.0).backward(np.ones(2))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(mg.GraphError, match="does not require grad"):
        (mg.Tensor([1.0]) * 2).sum().backward()


def test_gradients_accumulate_when_a_tensor_is_used_twice():
    x = mg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])
    x.zero_grad()
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    x.zero_grad()
    (x * x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2 + 1)


def test_gradient_through_a_shared_intermediate():
    x = mg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    h = x.exp()
    (h * h + h).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(2 * x.data) + np.exp(x.data))


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [8.0, 10.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_retain_graph_allows_a_second_backward():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.sigmoid() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_second_backward_without_retain_graph_raises_a_clear_error():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.tanh() * 2.0).sum()
    y.backward()
    before = x.grad.copy()
    with pytest.raises(mg.GraphError) as e:
        y.backward()
    msg = str(e.value)
    assert "retain_graph=True" in msg and "already" in msg
    np.testing.assert_array_equal(x.grad, before)


def test_keep_grads_keeps_intermediate_gradients():
    x = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    h = x * 2.0
    s = h.sigmoid()
    c = s.sum()
    c.backward(keep_grads=True)
    sig = 1 / (1 + np.exp(-2 * x.data))
    np.testing.assert_allclose(s.grad, np.ones(3))
    np.testing.assert_allclose(h.grad, sig * (1 - sig))
    np.testing.assert_allclose(x.grad, 2 * sig * (1 - sig))
    assert c.grad == 1.0


def test_without_keep_grads_intermediates_have_no_grad():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 2.0
    (h * h).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(x.grad, 8 * x.data)


def test_retain_grad_keeps_one_intermediate_gradient():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * 3.0).retain_grad()
    k = h.exp()
    (k * 2.0).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * np.exp(3 * x.data))
    assert k.grad is None
    np.testing.assert_allclose(x.grad, 6 * np.exp(3 * x.data))


def test_no_grad_records_nothing():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * 2.0).sigmoid() @ x
        assert y.op is None and y.inputs == () and not y.requires_grad and y.is_leaf
        with mg.enable_grad():
            assert (x * 2.0).op is not None
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert (x * 2.0).op is not None


def test_no_grad_as_a_decorator_and_after_an_exception():
    @mg.no_grad()
    def predict(t):
        return t * 2.0

    x = mg.Tensor(np.ones(2), requires_grad=True)
    out = predict(x)
    assert out.op is None and not out.requires_grad
    assert mg.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            _ = 1 / 0
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_but_shares_values():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.op is None
    np.testing.assert_array_equal(d.data, y.data)
    z = (d * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, d.data)  # no gradient flows through d


def test_is_leaf_and_op_and_inputs():
    a = mg.Tensor(np.ones(2), requires_grad=True)
    b = mg.Tensor(np.ones(2))
    c = a * b
    assert a.is_leaf and b.is_leaf and not c.is_leaf
    assert c.op.name == "mul" and c.inputs == (a, b)
    assert c.inputs[0] is a and c.inputs[1] is b
    assert (b * 2.0).is_leaf  # nothing needs a gradient: no node


def test_requires_grad_on_non_leaf_cannot_be_switched_off():
    x = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(mg.GraphError, match="detach"):
        (x * 2).requires_grad_(False)
    t = mg.Tensor(np.ones(2)).requires_grad_()
    assert t.requires_grad


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: (a + b).sum(),
        lambda a, b: (a - b).sum(),
        lambda a, b: (a + b).reshape(-1).sum(),
        lambda a, b: (a + b).T.sum(),
        lambda a, b: ((a + b) * 1.0).sum(),
        lambda a, b: (a + b).mean(),
        lambda a, b: (a.add_bias(b[0]) + b).sum(),
    ],
)
def test_leaf_grads_never_share_memory(build):
    a = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    build(a, b).backward()
    assert not np.shares_memory(a.grad, b.grad)
    b_before = b.grad.copy()
    a.grad += 100.0
    a.grad[0, 0] = -7.0
    np.testing.assert_array_equal(b.grad, b_before)
    assert a.grad.flags.writeable and b.grad.flags.writeable


def test_leaf_grad_does_not_share_memory_with_explicit_seed_or_intermediates():
    a = mg.Tensor(np.ones(3), requires_grad=True)
    b = mg.Tensor(np.ones(3), requires_grad=True)
    seed = np.array([1.0, 2.0, 3.0])
    y = a + b
    y.backward(gradient=seed, keep_grads=True)
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, y.grad) and not np.shares_memory(b.grad, y.grad)
    assert not np.shares_memory(a.grad, seed)
    a.grad[:] = 0
    np.testing.assert_array_equal(b.grad, seed)
    np.testing.assert_array_equal(y.grad, seed)


def test_bias_and_weight_grads_are_independent_writable_arrays():
    x = mg.Tensor(np.ones((1, 3)))
    w = mg.Tensor(np.ones((3, 3)), requires_grad=True)
    b = mg.Tensor(np.zeros(3), requires_grad=True)
    c = mg.Tensor(np.zeros(3), requires_grad=True)
    ((x @ w).add_bias(b) + c).sum().backward()
    assert not np.shares_memory(b.grad, c.grad)
    b.grad[0] = 99
    assert c.grad[0] == 1


# ============================================================================ deep graphs


def test_chain_of_100000_multiplications():
    x = mg.Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad == pytest.approx(1.0000001**100_000, rel=1e-9)
    del y
    gc.collect()


def test_chain_of_100000_additions():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# ============================================================================ memory


def _train_steps(model, opt, x, y, n):
    last = None
    for _ in range(n):
        cost = mg.squared_error(model(x), y)
        opt.zero_grad()
        cost.backward()
        opt.step()
        last = cost
    return last


def test_memory_does_not_grow_over_10000_training_steps():
    model = mg.nn.MLP([4, 8, 3], seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    r = np.random.default_rng(0)
    x = r.standard_normal((8, 4)).astype(np.float32)
    y = r.integers(0, 3, 8)
    old = _train_steps(model, opt, x, y, 1_000)
    ref = weakref.ref(old)
    old_input = weakref.ref(old.inputs[0])
    del old
    gc.collect()
    # Trace from step 1,000 on: whatever is still allocated at step 10,000 is growth.
    tracemalloc.start()
    try:
        after_1000, _ = tracemalloc.get_traced_memory()
        _train_steps(model, opt, x, y, 9_000)
        gc.collect()
        after_10000, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref() is None, "an old step's cost tensor is still alive"
    assert old_input() is None, "an old step's graph is still alive"
    growth = after_10000 - after_1000
    assert growth < 1_000_000, f"memory grew by {growth} bytes over 9,000 steps"


def test_backward_releases_saved_buffers():
    x = mg.Tensor(np.ones((50, 50)), requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    y.backward()
    assert h.op.saved is None and y.op.saved is None


# ============================================================================ numerical stability


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_sigmoid_saturates_without_warnings(dt):
    z = mg.Tensor(np.array([-1000.0, 1000.0, -100.0, 100.0, 0.0], dtype=dt), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = z.sigmoid()
        s.sum().backward()
        s0 = mg.sigmoid(mg.Tensor(np.array(-1000.0, dtype=dt)))
    assert s.dtype == dt and z.grad.dtype == dt
    assert np.all(np.isfinite(s.data)) and np.all(np.isfinite(z.grad))
    assert s.data[0] < 1e-30 and s.data[1] == 1.0 and s.data[4] == 0.5
    np.testing.assert_allclose(s.data, [0, 1, 0, 1, 0.5], atol=1e-30)
    np.testing.assert_allclose(z.grad, [0, 0, 0, 0, 0.25], atol=1e-30)
    assert s0.data < 1e-30


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_softmax_and_log_softmax_stable_for_huge_logits(dt):
    big = 1e30 if dt == np.float32 else 1e300
    z = mg.Tensor(
        np.array([[big, 0.0, -big], [1000.0, 1000.0, 999.0], [-5e4, -5e4, -5e4]], dtype=dt),
        requires_grad=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = z.softmax()
        ls = z.log_softmax()
        (s * mg.Tensor(np.arange(9, dtype=dt).reshape(3, 3))).sum().backward()
        z.zero_grad()
        ls[:, 0].sum().backward()
        c = mg.cross_entropy(mg.Tensor(z.data.copy(), requires_grad=True), [0, 2, 1])
    for arr in (s.data, ls.data, z.grad, c.data):
        assert np.all(np.isfinite(arr))
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(s.data[0], [1, 0, 0], atol=1e-30)
    np.testing.assert_allclose(s.data[2], [1 / 3] * 3, rtol=1e-6)
    e = math.exp(-1)
    np.testing.assert_allclose(ls.data[1], [-math.log(2 + e)] * 2 + [-1 - math.log(2 + e)], rtol=1e-5)
    assert ls.data[0, 0] == 0.0


# ============================================================================ error messages


def test_matmul_shape_error_names_op_and_shapes():
    a = mg.Tensor(np.zeros((10, 784), dtype=np.float32))
    b = mg.Tensor(np.zeros((16, 784), dtype=np.float32))
    with pytest.raises(mg.ShapeError) as e:
        a @ b
    msg = str(e.value)
    assert "matmul" in msg and "(10, 784)" in msg and "(16, 784)" in msg
    assert isinstance(e.value, ValueError)
    with pytest.raises(mg.ShapeError, match="matmul"):
        a @ mg.Tensor(np.array(2.0))


def test_matmul_batch_broadcast_error():
    with pytest.raises(mg.ShapeError, match=r"matmul.*\(2, 3, 4\).*\(5, 4, 2\)"):
        mg.Tensor(np.zeros((2, 3, 4))) @ mg.Tensor(np.zeros((5, 4, 2)))


@pytest.mark.parametrize(
    "op,sym",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
    ],
)
def test_broadcast_failure_names_op_and_both_shapes(op, sym):
    a = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.Tensor(np.ones((4, 1, 2)))
    with pytest.raises(mg.ShapeError) as e:
        sym(a, b)
    msg = str(e.value)
    assert msg.startswith(op + ":") and "(2, 3)" in msg and "(4, 1, 2)" in msg


def test_add_bias_wrong_size():
    x = mg.Tensor(np.ones((4, 3)))
    with pytest.raises(mg.ShapeError) as e:
        x.add_bias(np.ones(5))
    msg = str(e.value)
    assert "add_bias" in msg and "(5,)" in msg and "(4, 3)" in msg
    with pytest.raises(mg.ShapeError, match="add_bias"):
        x.add_bias(np.ones((1, 3)))


def test_squared_error_shape_mismatch():
    with pytest.raises(mg.ShapeError) as e:
        mg.squared_error(mg.Tensor(np.ones((4, 3))), np.ones((4, 2)))
    msg = str(e.value)
    assert "squared_error" in msg and "(4, 3)" in msg and "(4, 2)" in msg
    with pytest.raises(mg.ShapeError, match="squared_error.*4 labels"):
        mg.squared_error(mg.Tensor(np.ones((4, 3))), np.array([0, 1, 2]))


@pytest.mark.parametrize("fn", [mg.squared_error, mg.cross_entropy])
def test_labels_out_of_range(fn):
    out = mg.Tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"0\.\.3.*found 4"):
        fn(out, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="found -1"):
        fn(out, np.array([0, -1, 1]))


def test_cross_entropy_shape_errors():
    with pytest.raises(mg.ShapeError, match="cross_entropy"):
        mg.cross_entropy(mg.Tensor(np.ones((2, 3, 4))), [0, 1])
    with pytest.raises(mg.ShapeError, match=r"cross_entropy.*\(2, 3\).*\(2, 4\)"):
        mg.cross_entropy(mg.Tensor(np.ones((2, 3))), np.ones((2, 4)))


@pytest.mark.parametrize("bad", [0.0, -1.5])
def test_log_of_non_positive(bad):
    x = mg.Tensor(np.array([1.0, bad, 2.0]))
    with pytest.raises(ValueError) as e:
        x.log()
    msg = str(e.value)
    assert "log" in msg and "> 0" in msg and repr(bad).rstrip("0").rstrip(".") in msg


def test_nan_output_into_squared_error_raises_clear_value_error():
    out = mg.Tensor(np.array([[0.1, np.nan], [0.3, 0.4]], dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError) as e:
        mg.squared_error(out, np.array([0, 1]))
    msg = str(e.value)
    assert "squared_error" in msg and "nan" in msg and "(0, 1)" in msg and "learning rate" in msg


def test_inf_target_into_squared_error_names_target():
    with pytest.raises(ValueError, match="target holds inf"):
        mg.squared_error(mg.Tensor(np.zeros(3)), np.array([0.0, np.inf, 0.0]))


def test_reshape_transpose_getitem_and_axis_errors():
    x = mg.Tensor(np.ones((2, 3)))
    with pytest.raises(mg.ShapeError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(mg.ShapeError, match="transpose"):
        x.transpose(0, 0)
    with pytest.raises(mg.ShapeError, match=r"getitem.*\(2, 3\)"):
        x[5]
    with pytest.raises(mg.ShapeError, match="sum: axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(mg.ShapeError, match="mean.*repeats"):
        x.mean(axis=(0, -2))
    with pytest.raises(mg.DTypeError, match="getitem"):
        x[mg.Tensor([0])]


def test_item_and_len_and_repr():
    assert mg.Tensor(np.array([2.5])).item() == 2.5
    assert float(mg.Tensor(np.array(1.5))) == 1.5
    with pytest.raises(mg.ShapeError, match=r"item.*\(2,\)"):
        mg.Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError):
        len(mg.Tensor(1.0))
    assert len(mg.Tensor(np.zeros((4, 2)))) == 4
    x = mg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    assert "requires_grad=True" in repr(x) and "name='x'" in repr(x) and "float32" in repr(x)
    assert "op=mul" in repr(x * 2)


def test_bias_vector_plus_matrix_records_add_bias_in_either_order():
    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    b = mg.Tensor(np.arange(4.0), requires_grad=True)
    for out in (x + b, b + x, np.arange(4.0) + x, x + np.arange(4.0)):
        assert out.op.name == "add_bias" and out.shape == (3, 4)
        assert out.inputs[0] is x
    (b + x).sum().backward()
    np.testing.assert_array_equal(b.grad, np.full(4, 3.0))
    assert (x + x).op.name == "add" and (1.0 + x).op.name == "add"
