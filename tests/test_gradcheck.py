"""gradcheck itself, which learners are told to trust: it must fail a rule that ignores the
upstream gradient, pass a correct op on any memory layout, and name what it reports."""

import numpy as np
import pytest

import microgradnet as mg
from microgradnet.functional import apply
from microgradnet.ops import Op


@pytest.fixture(autouse=True)
def _forget_test_ops():
    before = set(mg.ops.OPS)
    yield
    for name in set(mg.ops.OPS) - before:
        del mg.ops.OPS[name]


class IgnoresG(Op):
    """x² whose rule returns the local derivative 2x without multiplying by g."""

    name = "square_ignoring_g"

    def forward(self, x):
        self.saved = x
        return x * x

    def backward(self, g, needs):
        return (2 * self.saved,)


class Square(Op):
    name = "square_for_gradcheck"

    def forward(self, x):
        self.saved = x
        return x * x

    def backward(self, g, needs):
        return (g * 2 * self.saved,)


X = np.random.default_rng(3).normal(size=(3, 4))


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: apply(IgnoresG(), t).sum(),  # the op's g is all ones
        lambda t: apply(IgnoresG(), t.sum()),  # a scalar output
        lambda t: apply(IgnoresG(), t).mean() * 3.0,
        lambda t: apply(IgnoresG(), t),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_rule_that_ignores_the_upstream_gradient_fails(fn, seed):
    res = mg.gradcheck(fn, X, seed=seed)
    assert not res.ok, str(res)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_correct_rule_passes_in_the_same_settings(seed):
    for fn in (
        lambda t: apply(Square(), t).sum(),
        lambda t: apply(Square(), t.sum()),
        lambda t: apply(Square(), t),
    ):
        assert mg.gradcheck(fn, X, seed=seed, raise_on_failure=True)


def test_a_correct_op_passes_on_non_contiguous_inputs():
    a = np.random.default_rng(0).normal(size=(4, 3))
    views = {
        "transposed array": a.T,
        "transposed tensor": mg.Tensor(a.T, requires_grad=True),
        "strided slice": a[::2, ::-1],
        "fortran order": np.asfortranarray(a),
        "float32 transposed": a.astype(np.float32).T,
    }
    for what, x in views.items():
        res = mg.gradcheck(lambda t: (t * t).sum(axis=0), x)
        assert res.ok, f"{what}: {res}"
        assert res.checked == np.asarray(x.data if isinstance(x, mg.Tensor) else x).size
    res = mg.gradcheck(lambda t, w: t @ w, a.T, np.ones((4, 2)))
    assert res.ok and res.checked == 12 + 8


def test_gradcheck_leaves_the_callers_arrays_untouched():
    a = np.random.default_rng(0).normal(size=(2, 3))
    before = a.copy()
    mg.gradcheck(lambda t: (t * t).sum(), a)
    mg.gradcheck(lambda t: (t * t).sum(), a.T)
    np.testing.assert_array_equal(a, before)


def test_the_report_names_inputs_by_name_or_position():
    unnamed = mg.gradcheck(lambda t: apply(IgnoresG(), t), X)
    text = str(unnamed)
    assert "worst at input 0 index" in text and "None" not in text
    w = mg.Tensor(X.copy(), requires_grad=True, name="W1")
    b = mg.Tensor(np.ones(4), requires_grad=True)
    named = mg.gradcheck(lambda t, c: apply(IgnoresG(), t) + c, w, b)
    assert "worst at 'W1' (input 0) index" in str(named)
    evil = mg.Tensor(X.copy(), requires_grad=True, name="W\u202e1\ud800")
    shown = str(mg.gradcheck(lambda t: apply(IgnoresG(), t), evil))
    assert "'W\\u202e1\\ud800' (input 0)" in shown
    shown.encode("utf-8")  # printable anywhere
