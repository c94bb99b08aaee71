"""Optimizers: SGD by hand, SGD (momentum, weight decay) and Adam against PyTorch, argument checks."""

import math

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.optim import SGD, Adam


def make_params(seed=0, dtype=np.float64):
    r = np.random.default_rng(seed)
    return [
        mg.Tensor(r.standard_normal((3, 4)).astype(dtype), requires_grad=True, name="w"),
        mg.Tensor(r.standard_normal((4,)).astype(dtype), requires_grad=True, name="b"),
    ]


def grads_for(step, shapes, seed=0):
    r = np.random.default_rng(1000 * seed + step)
    return [r.standard_normal(s) for s in shapes]


# ============================================================================ SGD by hand


def test_sgd_step_equals_hand_computation():
    w = mg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    b = mg.Tensor(np.array(0.5), requires_grad=True)
    x = np.array([0.5, 1.0, -1.0])
    cost = ((w * x).sum() + b) ** 2  # (0.5 - 2 - 3 + 0.5)² = 16, ∂/∂w = 2·(−4)·x, ∂/∂b = −8
    cost.backward()
    np.testing.assert_allclose(w.grad, -8 * x)
    np.testing.assert_allclose(b.grad, -8.0)
    SGD([w, b], lr=0.1).step()
    np.testing.assert_allclose(w.data, [1.0 + 0.4, -2.0 + 0.8, 3.0 - 0.8])
    np.testing.assert_allclose(b.data, 0.5 + 0.8)


def test_sgd_updates_in_place_and_keeps_dtype():
    for dt in (np.float32, np.float64):
        p = mg.Tensor(np.ones(3, dtype=dt), requires_grad=True)
        arr = p.data
        p.grad = np.full(3, 2.0, dtype=dt)
        SGD([p], lr=0.25, momentum=0.5, weight_decay=0.1).step()
        assert p.data is arr and p.dtype == dt
        np.testing.assert_allclose(p.data, 1 - 0.25 * (2.0 + 0.1), rtol=1e-6)


def test_plain_sgd_leaves_the_gradient_alone_and_follows_a_new_shape():
    p = mg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    opt = SGD([p], lr=0.5)
    for step in range(3):  # the lr·g buffer is reused: every step must still be exact
        g = np.full((2, 3), float(step + 1), dtype=np.float32)
        p.grad = g
        before = p.data.copy()
        opt.step()
        assert p.grad is g and np.all(g == step + 1)  # .grad is still the gradient
        np.testing.assert_array_equal(p.data, before - np.float32(0.5) * g)
    p.data = np.ones(4, dtype=np.float64)  # the parameter replaced by one of another shape
    p.grad = np.arange(4.0)
    opt.step()
    np.testing.assert_array_equal(p.data, 1 - 0.5 * np.arange(4.0))


def test_sgd_on_a_model_lowers_the_cost():
    m = mg.nn.MLP([3, 4, 2], seed=0)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 1, 0])
    opt = SGD(m.parameters(), lr=1.0)
    first = mg.squared_error(m(x), y)
    first.backward()
    expected = {n: p.data - 1.0 * p.grad for n, p in m.named_parameters()}
    opt.step()
    for n, p in m.named_parameters():
        np.testing.assert_allclose(p.data, expected[n], rtol=1e-6)
    assert float(mg.squared_error(m(x), y).data) < float(first.data)


def test_params_with_grad_none_are_skipped():
    a, b = make_params()
    a_before, b_before = a.data.copy(), b.data.copy()
    a.grad = np.ones_like(a.data)
    for opt in (
        SGD([a, b], lr=0.1),
        SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1),
        Adam([a, b], lr=0.1, weight_decay=0.1),
    ):
        opt.step()
        np.testing.assert_array_equal(b.data, b_before)
        assert b.grad is None
    assert not np.array_equal(a.data, a_before)


def test_zero_grad():
    a, b = make_params()
    a.grad = np.ones_like(a.data)
    b.grad = np.ones_like(b.data)
    for cls in (SGD, Adam):
        opt = cls([a, b], lr=0.1)
        opt.zero_grad()
        assert a.grad is None and b.grad is None
        a.grad = np.ones_like(a.data)
    # after zero_grad a new backward starts from scratch (no accumulation of the old one)
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = SGD([x], lr=0.1)
    (x * 3.0).sum().backward()
    opt.zero_grad()
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_accepts_a_single_tensor_and_a_generator():
    p = mg.Tensor(np.ones(2), requires_grad=True)
    assert SGD(p, lr=0.1).params == [p]
    m = mg.nn.MLP([2, 2], seed=0)
    assert len(Adam((q for q in m.parameters()), lr=0.1).params) == 2


# ============================================================================ argument checks


@pytest.mark.parametrize("cls", [SGD, Adam])
@pytest.mark.parametrize("lr", [0, 0.0, -0.1, float("nan"), float("inf"), "0.1", None, True, [0.1]])
def test_invalid_lr(cls, lr):
    p = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="lr") as e:
        cls([p], lr=lr)
    assert cls.__name__ in str(e.value)


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"momentum": float("nan")}, "momentum"),
    ],
)
def test_invalid_sgd_settings(kwargs, word):
    p = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=word):
        SGD([p], lr=0.1, **kwargs)


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"betas": (0.9,)}, "betas"),
        ({"betas": (1.0, 0.999)}, "betas"),
        ({"betas": (0.9, -0.1)}, "betas"),
        ({"eps": 0.0}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_invalid_adam_settings(kwargs, word):
    p = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=word):
        Adam([p], lr=0.1, **kwargs)


def test_invalid_params():
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="params"):
        SGD(3, lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\]"):
        SGD([mg.Tensor(np.ones(1), requires_grad=True), np.ones(1)], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        Adam([mg.Tensor(np.ones(1))], lr=0.1)


def test_state_dict_holds_settings_and_buffer_copies():
    a, b = make_params()
    a.grad = np.ones_like(a.data)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    assert sd["settings"] == {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0}
    assert sd["buffers"]["velocity"][1] is None
    sd["buffers"]["velocity"][0][:] = 0
    assert np.all(opt.velocity[0] == 1)
    adam = Adam([a, b], lr=0.01)
    adam.step()
    assert adam.state_dict()["settings"]["t"] == 1


# ============================================================================ against PyTorch


def _run_both(make_mg, make_torch, steps, seed, dtype=np.float64):
    torch = require("torch")
    params = make_params(seed, dtype)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt = make_mg(params)
    topt = make_torch(torch, tparams)
    for step in range(steps):
        gs = grads_for(step, [p.shape for p in params], seed)
        for p, tp, g in zip(params, tparams, gs):
            p.grad = g.astype(dtype)
            tp.grad = torch.tensor(g.astype(dtype))
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            yield p.data, tp.detach().numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.01), (0.5, 0.1), (0.99, 0.001)]
)
def test_sgd_matches_torch(seed, momentum, weight_decay):
    lr = 0.05
    n = 0
    for ours, theirs in _run_both(
        lambda ps: SGD(ps, lr=lr, momentum=momentum, weight_decay=weight_decay),
        lambda torch, ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=weight_decay),
        steps=8,
        seed=seed,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
        n += 1
    assert n == 16


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "lr,betas,eps,weight_decay",
    [
        (1e-3, (0.9, 0.999), 1e-8, 0.0),
        (0.1, (0.8, 0.99), 1e-6, 0.0),
        (0.01, (0.9, 0.999), 1e-8, 0.05),
        (0.5, (0.0, 0.5), 1e-3, 0.0),
    ],
)
def test_adam_matches_torch(seed, lr, betas, eps, weight_decay):
    n = 0
    for ours, theirs in _run_both(
        lambda ps: Adam(ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay),
        lambda torch, ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay),
        steps=10,
        seed=seed,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        n += 1
    assert n == 20


def test_sgd_and_adam_match_torch_in_float32():
    for make_mg, make_t in [
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
            lambda torch, ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        (lambda ps: Adam(ps, lr=0.01), lambda torch, ps: torch.optim.Adam(ps, lr=0.01)),
    ]:
        for ours, theirs in _run_both(make_mg, make_t, steps=5, seed=3, dtype=np.float32):
            assert ours.dtype == np.float32
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_training_a_model_with_adam_matches_torch():
    """Full loop: the same MLP, loss and data in both engines, Adam for several steps."""
    torch = require("torch")
    m = mg.nn.MLP([3, 5, 2], activation="tanh", output_activation=None, dtype=np.float64, seed=0)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in m.parameters()]
    opt = Adam(m.parameters(), lr=0.05)
    topt = torch.optim.Adam(tparams, lr=0.05)
    r = np.random.default_rng(0)
    x = r.standard_normal((8, 3))
    y = r.integers(0, 2, 8)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for _ in range(10):
        cost = mg.cross_entropy(m(x), y)
        opt.zero_grad()
        cost.backward()
        opt.step()
        w0, b0, w1, b1 = tparams
        tcost = torch.nn.functional.cross_entropy(torch.tanh(tx @ w0 + b0) @ w1 + b1, ty)
        topt.zero_grad()
        tcost.backward()
        topt.step()
        assert math.isclose(float(cost.data), tcost.item(), rel_tol=1e-10)
    for p, tp in zip(m.parameters(), tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)
