"""Every op's gradient rule against central finite differences (float64, ``mg.gradcheck``).

Shapes include broadcasting: a scalar with a matrix, rows ``(1, n)``, columns ``(n, 1)`` and
vectors ``(n,)`` against matrices, and 3-D batches. Hypothesis drives the property tests
(random broadcastable shapes, the gradient of a sum, linearity).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import microgradnet as mg

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def rand(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away_from_zero(shape, seed=0, margin=0.3, high=2.0):
    """Random values with |x| in [margin, high] and random signs."""
    r = np.random.default_rng(seed)
    return r.uniform(margin, high, size=shape) * r.choice([-1.0, 1.0], size=shape)


def check(fn, *inputs, **kw):
    res = mg.gradcheck(fn, *inputs, **kw)
    assert res.ok, str(res)
    assert res.checked == sum(
        np.asarray(x.data if isinstance(x, mg.Tensor) else x).size
        for x in inputs
        if not isinstance(x, mg.Tensor) or x.requires_grad
    )
    return res


# ----------------------------------------------------------------------------- the checker itself


def test_gradcheck_catches_a_wrong_gradient_rule():
    """A deliberately wrong rule must fail: otherwise none of the checks below mean anything."""

    class Wrong(mg.ops.Op):
        name = "wrong_square_for_test"

        def forward(self, x):
            self.saved = x
            return x * x

        def backward(self, g, needs):
            return (g * self.saved,)  # should be 2x

    from microgradnet.tensor import apply

    res = mg.gradcheck(lambda t: apply(Wrong(), t), rand((3,), seed=1))
    assert not res.ok
    assert "FAILED" in str(res)
    lines = str(res).splitlines()  # the worst mismatch on lines of its own, each short
    assert lines[1].startswith("  worst at input 0") and "finite difference" in lines[2]
    assert max(map(len, lines)) <= 80
    with pytest.raises(AssertionError):
        mg.gradcheck(lambda t: apply(Wrong(), t), rand((3,), seed=1), raise_on_failure=True)
    mg.ops.OPS.pop("wrong_square_for_test", None)


def test_gradcheck_reports_nonzero_counts_and_passes_identity():
    res = check(lambda a: a * 1.0, rand((2, 3)))
    assert res.checked == 6 and res.max_abs_error < 1e-6


# ----------------------------------------------------------------------------- binary ops

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((1, 4), (3, 4)),
    ((3, 1), (3, 4)),
    ((4,), (3, 4)),
    ((3, 4), (1, 4)),
    ((3, 4), (3, 1)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 4)),
    ((2, 3, 4), (2, 1, 4)),
    ((1, 3, 1), (2, 1, 4)),
    ((4,), (2, 3, 4)),
    ((5,), (5,)),
    ((), ()),
]


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_add_sub_mul_broadcasting(op, sa, sb):
    fns = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
    a, b = rand(sa, seed=1), rand(sb, seed=2)
    res = check(fns[op], a, b)
    out = fns[op](mg.Tensor(a), mg.Tensor(b))
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert res.checked == a.size + b.size


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
def test_div_broadcasting(sa, sb):
    a, b = rand(sa, seed=3), away_from_zero(sb, seed=4, margin=0.5)
    check(lambda x, y: x / y, a, b)


def test_reflected_operators_with_constants():
    a = rand((3, 4), seed=5)
    check(lambda x: 2.0 - x, a)
    check(lambda x: 3.0 * x + 1.0, a)
    check(lambda x: 1.0 / x, away_from_zero((3, 4), seed=6))
    check(lambda x: np.full((3, 4), 2.0) / (x * x + 1.0), a)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("p", [2, 3, 0.5, -1, 1.5, -2.0])
def test_pow_scalar_exponents(p, shape):
    if p in (0.5, 1.5):
        x = rand(shape, seed=7, low=0.3, high=2.0)  # positive inputs for fractional powers
    else:
        x = away_from_zero(shape, seed=7, margin=0.4)
    check(lambda t: t**p, x)


def test_pow_value_matches_numpy():
    x = rand((4,), seed=8, low=0.5, high=2.0)
    for p in (2, 3, 0.5, -1):
        np.testing.assert_allclose((mg.Tensor(x) ** p).data, x**p, rtol=1e-14)


@pytest.mark.parametrize("shape", [(), (4,), (3, 4), (2, 3, 4)])
def test_neg(shape):
    check(lambda t: -t, rand(shape, seed=9))
    check(lambda t: t.__neg__().__neg__() * 2.0, rand(shape, seed=10))


# ----------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((4,), (4,)),  # dot product
    ((4,), (4, 3)),  # 1-D @ 2-D
    ((3, 4), (4,)),  # 2-D @ 1-D
    ((3, 4), (4, 5)),  # 2-D @ 2-D
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),  # batched
    ((2, 3, 4), (4, 5)),  # 3-D @ 2-D broadcast
    ((3, 4), (2, 4, 5)),  # 2-D @ 3-D broadcast
    ((1, 3, 4), (2, 4, 5)),  # batch dim of size 1 broadcast
    ((2, 3, 4), (4,)),  # 3-D @ 1-D
    ((4,), (2, 4, 5)),  # 1-D @ 3-D
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    a, b = rand(sa, seed=11), rand(sb, seed=12)
    out = mg.Tensor(a) @ mg.Tensor(b)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13)
    check(lambda x, y: x @ y, a, b)
    check(lambda x, y: mg.matmul(x, y), a, b)


def test_matmul_with_constant_operand_only_checks_the_tensor():
    a = rand((3, 4), seed=13)
    w = rand((4, 2), seed=14)
    check(lambda x: x @ w, a)
    check(lambda x: w.T @ x.T, a)


# ----------------------------------------------------------------------------- add_bias


@pytest.mark.parametrize("sx", [(5,), (3, 5), (2, 3, 5), (1, 5)])
def test_add_bias(sx):
    x, b = rand(sx, seed=15), rand((5,), seed=16)
    check(lambda t, u: t.add_bias(u), x, b)
    check(lambda t, u: mg.add_bias(t, u), x, b)
    out = mg.Tensor(x).add_bias(mg.Tensor(b))
    np.testing.assert_allclose(out.data, x + b)


def test_plus_vector_records_add_bias_and_checks():
    x = mg.Tensor(rand((3, 5), seed=17), requires_grad=True)
    b = mg.Tensor(rand((5,), seed=18), requires_grad=True)
    assert (x + b).op.name == "add_bias"
    assert (b + x).op.name in ("add", "add_bias")  # either is a correct record of b + x
    check(lambda t, u: u + t, x, b)


# ----------------------------------------------------------------------------- reductions

REDUCE_CASES = [
    ((3, 4), None, False),
    ((3, 4), None, True),
    ((3, 4), 0, False),
    ((3, 4), 1, True),
    ((3, 4), -1, False),
    ((3, 4), -2, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (0, 2), True),
    ((2, 3, 4), (-1, 0), False),
    ((2, 3, 4), (0, 1, 2), False),
    ((2, 3, 4), 1, True),
    ((5,), 0, False),
    ((5,), None, True),
    ((), None, False),
]


@pytest.mark.parametrize("shape,axis,keepdims", REDUCE_CASES)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean(op, shape, axis, keepdims):
    x = rand(shape, seed=19)
    out = getattr(mg.Tensor(x), op)(axis=axis, keepdims=keepdims)
    expected = getattr(np, op)(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)
    check(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), x)
    fn = getattr(mg, op)
    check(lambda t: fn(t, axis, keepdims), x)


# ----------------------------------------------------------------------------- shape ops


@pytest.mark.parametrize(
    "shape,new",
    [
        ((3, 4), (12,)),
        ((3, 4), (4, 3)),
        ((3, 4), (2, -1)),
        ((2, 3, 4), (6, 4)),
        ((6,), (1, 2, 3)),
        ((), (1, 1)),
    ],
)
def test_reshape(shape, new):
    x = rand(shape, seed=20)
    out = mg.Tensor(x).reshape(new)
    np.testing.assert_array_equal(out.data, x.reshape(new))
    check(lambda t: t.reshape(new), x)
    check(lambda t: t.reshape(*new) * 2.0, x)
    check(lambda t: mg.reshape(t, new), x)


@pytest.mark.parametrize(
    "shape,axes",
    [
        ((3, 4), None),
        ((2, 3, 4), None),
        ((2, 3, 4), (1, 0, 2)),
        ((2, 3, 4), (2, 0, 1)),
        ((2, 3, 4), (-1, 0, 1)),
        ((5,), None),
    ],
)
def test_transpose(shape, axes):
    x = rand(shape, seed=21)
    out = mg.Tensor(x).transpose(axes) if axes else mg.Tensor(x).transpose()
    np.testing.assert_array_equal(out.data, np.transpose(x, axes))
    if axes is None:
        check(lambda t: t.T, x)
        check(lambda t: t.transpose(), x)
        check(lambda t: mg.transpose(t), x)
    else:
        check(lambda t: t.transpose(axes), x)
        check(lambda t: t.transpose(*axes), x)
        check(lambda t: mg.transpose(t, axes), x)


GETITEM_CASES = [
    ((5,), 2),
    ((5,), -1),
    ((5,), slice(1, 4)),
    ((5,), slice(None, None, -2)),
    ((3, 4), 1),
    ((3, 4), -1),
    ((3, 4), (1, 2)),
    ((3, 4), (slice(None), 1)),
    ((3, 4), (slice(0, 2), slice(1, None))),
    ((3, 4), (-2, slice(None, None, 2))),
    ((5,), np.array([0, 2, 2, 4, 0])),
    ((3, 4), np.array([2, 0, 2])),
    ((3, 4), (np.array([0, 1, 1, 2]), np.array([3, 3, 3, 0]))),
    ((3, 4), (slice(None), np.array([1, 1, 0]))),
    ((3, 4), [0, 0, 1]),
    ((3, 4), None),
    ((3, 4), (None, 1)),
    ((3, 4), Ellipsis),
    ((2, 3, 4), (Ellipsis, 1)),
    ((2, 3, 4), (0, Ellipsis, None)),
    ((2, 3, 4), (Ellipsis, np.array([0, 0, 3]))),
    ((3, 4), np.array([[0, 1], [1, 1]])),
]


@pytest.mark.parametrize("shape,index", GETITEM_CASES, ids=[f"{i}" for i in range(len(GETITEM_CASES))])
def test_getitem(shape, index):
    x = rand(shape, seed=22)
    out = mg.Tensor(x)[index]
    np.testing.assert_array_equal(out.data, x[index])
    check(lambda t: t[index], x)
    check(lambda t: t[index] * t[index], x)


def test_getitem_repeated_integer_array_adds_up():
    x = mg.Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 3.0, 0.0, 1.0])


# ----------------------------------------------------------------------------- functions

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (1, 4), (4, 1)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh"])
def test_smooth_functions(name, shape):
    x = rand(shape, seed=23, low=-3, high=3)
    np.testing.assert_allclose(
        getattr(mg.Tensor(x), name)().data,
        {"exp": np.exp, "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name](x),
        rtol=1e-13,
    )
    check(lambda t: getattr(t, name)(), x)
    fn = getattr(mg, name)
    check(lambda t: fn(t * 2.0) + t, x)


@pytest.mark.parametrize("shape", SHAPES)
def test_log_positive_inputs(shape):
    x = rand(shape, seed=24, low=0.2, high=3.0)
    np.testing.assert_allclose(mg.Tensor(x).log().data, np.log(x))
    check(lambda t: t.log(), x)
    check(lambda t: mg.log(t * t + 1.0), rand(shape, seed=25))


@pytest.mark.parametrize("shape", SHAPES)
def test_relu_away_from_kink(shape):
    x = away_from_zero(shape, seed=26, margin=0.1)
    np.testing.assert_array_equal(mg.Tensor(x).relu().data, np.maximum(x, 0))
    check(lambda t: t.relu(), x)
    check(lambda t: mg.relu(t) * t, x)


def test_relu_gradient_is_zero_for_negative_inputs():
    x = mg.Tensor(np.array([-2.0, -0.5, 0.5, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1, 1])


@pytest.mark.parametrize(
    "shape,axis",
    [
        ((5,), -1),
        ((5,), 0),
        ((3, 4), -1),
        ((3, 4), 0),
        ((3, 4), 1),
        ((2, 3, 4), 1),
        ((2, 3, 4), -1),
        ((2, 3, 4), 0),
        ((1, 4), 0),
    ],
)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_log_softmax(name, shape, axis):
    x = rand(shape, seed=27, low=-3, high=3)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    out = getattr(mg.Tensor(x), name)(axis)
    np.testing.assert_allclose(out.data, s if name == "softmax" else np.log(s), rtol=1e-12, atol=1e-14)
    check(lambda t: getattr(t, name)(axis), x)
    fn = getattr(mg, name)
    check(lambda t: fn(t, axis=axis), x)


# ----------------------------------------------------------------------------- costs


@pytest.mark.parametrize("shape", [(), (4,), (3, 4), (5, 2)])
def test_squared_error_both_inputs(shape):
    a, y = rand(shape, seed=28), rand(shape, seed=29)
    n = shape[0] if len(shape) == 2 else 1
    np.testing.assert_allclose(
        mg.squared_error(mg.Tensor(a), mg.Tensor(y)).data, ((a - y) ** 2).sum() / n, rtol=1e-13
    )
    check(lambda t, u: mg.squared_error(t, u), a, y)
    check(lambda t: mg.squared_error(t, y), a)
    check(lambda u: mg.squared_error(a, u), y)


def test_squared_error_integer_labels():
    a = rand((4, 3), seed=30)
    labels = np.array([2, 0, 1, 2])
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose(
        mg.squared_error(mg.Tensor(a), labels).data, ((a - onehot) ** 2).sum() / 4, rtol=1e-13
    )
    check(lambda t: mg.squared_error(t, labels), a)
    # 1-D output, a single integer label
    v = rand((3,), seed=31)
    np.testing.assert_allclose(
        mg.squared_error(mg.Tensor(v), np.int64(1)).data, ((v - np.eye(3)[1]) ** 2).sum(), rtol=1e-13
    )
    check(lambda t: mg.squared_error(t, np.int64(1)), v)
    check(lambda t: mg.squared_error(t, 2), v)


def test_squared_error_0d():
    check(lambda t, u: mg.squared_error(t, u), np.array(0.7), np.array(-0.2))
    assert mg.squared_error(mg.Tensor(np.array(3.0)), np.array(1.0)).item() == pytest.approx(4.0)


@pytest.mark.parametrize("n,c", [(1, 3), (4, 3), (6, 10)])
def test_cross_entropy_int_labels(n, c):
    z = rand((n, c), seed=32, low=-3, high=3)
    labels = np.random.default_rng(33).integers(0, c, n)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(
        mg.cross_entropy(mg.Tensor(z), labels).data, -logp[np.arange(n), labels].mean(), rtol=1e-13
    )
    check(lambda t: mg.cross_entropy(t, labels), z)


@pytest.mark.parametrize("n,c", [(1, 3), (4, 3), (5, 6)])
def test_cross_entropy_onehot_and_probability_targets(n, c):
    z = rand((n, c), seed=34, low=-3, high=3)
    labels = np.random.default_rng(35).integers(0, c, n)
    onehot = np.eye(c)[labels]
    np.testing.assert_allclose(
        mg.cross_entropy(mg.Tensor(z), onehot).data, mg.cross_entropy(mg.Tensor(z), labels).data, rtol=1e-13
    )
    check(lambda t: mg.cross_entropy(t, onehot), z)
    probs = np.random.default_rng(36).uniform(0.1, 1, (n, c))
    probs /= probs.sum(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(
        mg.cross_entropy(mg.Tensor(z), probs).data, -(probs * logp).sum() / n, rtol=1e-13
    )
    check(lambda t: mg.cross_entropy(t, probs), z)
    check(lambda t: mg.cross_entropy(t, mg.Tensor(probs)), z)


def test_cross_entropy_single_example_1d():
    z = rand((4,), seed=37)
    check(lambda t: mg.cross_entropy(t, 2), z)
    check(lambda t: mg.cross_entropy(t, np.array([0.1, 0.2, 0.3, 0.4])), z)


# ----------------------------------------------------------------------------- compositions


def test_mlp_like_composition():
    x = rand((5, 3), seed=38)
    w1, b1, w2, b2 = rand((3, 4), seed=39), rand((4,), seed=40), rand((4, 2), seed=41), rand((2,), seed=42)
    labels = np.array([0, 1, 1, 0, 1])
    check(lambda x_, a, b, c, d: mg.cross_entropy((x_ @ a + b).tanh() @ c + d, labels), x, w1, b1, w2, b2)
    check(
        lambda x_, a, b, c, d: mg.squared_error(((x_ @ a).add_bias(b)).sigmoid() @ c + d, labels),
        x,
        w1,
        b1,
        w2,
        b2,
    )


def test_tensor_used_many_times():
    x = rand((3,), seed=43)
    check(lambda t: t * t * t + t.exp() * t - t / (t * t + 1.0), x)


def test_non_requires_grad_tensor_is_not_checked():
    a = mg.Tensor(rand((3,), seed=44), requires_grad=True)
    c = mg.Tensor(rand((3,), seed=45))
    res = check(lambda x, y: x * y, a, c)
    assert res.checked == 3


# ----------------------------------------------------------------------------- hypothesis properties


@st.composite
def broadcastable_pair(draw):
    ndim = draw(st.integers(0, 3))
    full = tuple(draw(st.integers(1, 3)) for _ in range(ndim))

    def sub(shape):
        keep = draw(st.integers(0, len(shape)))
        tail = shape[len(shape) - keep :]
        return tuple(1 if draw(st.booleans()) else s for s in tail)

    a, b = sub(full), sub(full)
    if draw(st.booleans()):
        a = full
    return a, b


@SETTINGS
@given(
    shapes=broadcastable_pair(), op=st.sampled_from(["add", "sub", "mul", "div"]), seed=st.integers(0, 2**16)
)
def test_property_broadcast_binary_ops(shapes, op, seed):
    sa, sb = shapes
    a = rand(sa, seed=seed)
    b = away_from_zero(sb, seed=seed + 1, margin=0.5)
    fn = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
    }[op]
    out = fn(mg.Tensor(a), mg.Tensor(b))
    assert out.shape == np.broadcast_shapes(sa, sb)
    np.testing.assert_allclose(out.data, fn(a, b), rtol=1e-14)
    check(fn, a, b)


@SETTINGS
@given(shapes=broadcastable_pair(), seed=st.integers(0, 2**16))
def test_property_grad_shapes_match_inputs(shapes, seed):
    sa, sb = shapes
    a = mg.Tensor(rand(sa, seed=seed), requires_grad=True)
    b = mg.Tensor(rand(sb, seed=seed + 1), requires_grad=True)
    ((a * b).tanh() + b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), seed=st.integers(0, 2**16))
def test_property_gradient_of_a_sum_is_the_sum_of_gradients(shape, seed):
    x0 = rand(shape, seed=seed)
    f = lambda t: (t * t).sum()  # noqa: E731
    g = lambda t: t.sigmoid().sum() * 3.0  # noqa: E731

    def grad(fn):
        t = mg.Tensor(x0.copy(), requires_grad=True)
        fn(t).backward()
        return t.grad

    t = mg.Tensor(x0.copy(), requires_grad=True)
    (f(t) + g(t)).backward()
    np.testing.assert_allclose(t.grad, grad(f) + grad(g), rtol=1e-12, atol=1e-14)


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    alpha=st.floats(-3, 3),
    beta=st.floats(-3, 3),
    seed=st.integers(0, 2**16),
)
def test_property_linearity_of_backward(shape, alpha, beta, seed):
    """backward(α·u + β·v) = α·backward(u) + β·backward(v) for a fixed graph (a VJP is linear)."""
    x0 = rand(shape, seed=seed)
    r = np.random.default_rng(seed + 7)
    u, v = r.standard_normal(shape), r.standard_normal(shape)

    def vjp(seed_grad):
        t = mg.Tensor(x0.copy(), requires_grad=True)
        (t.tanh() * t + t.exp()).backward(gradient=seed_grad)
        return t.grad

    np.testing.assert_allclose(
        vjp(alpha * u + beta * v), alpha * vjp(u) + beta * vjp(v), rtol=1e-9, atol=1e-9
    )


@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_property_cross_entropy_and_softmax_grads(n, c, seed):
    z = rand((n, c), seed=seed, low=-4, high=4)
    labels = np.random.default_rng(seed).integers(0, c, n)
    check(lambda t: mg.cross_entropy(t, labels), z)
    check(lambda t: t.softmax(-1).log() * 0.5, z)
