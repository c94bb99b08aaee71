"""The engine's corner cases: iteration and numpy conversion, x**0 at 0, log of 0, in-place
changes between forward and backward, a gradient rule returning the wrong shape, sigmoid far
left, unsupported dtypes, complex data. Where PyTorch has an answer, it is the reference."""

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.functional import apply
from microgradnet.ops import Op


@pytest.fixture(scope="module")
def torch():
    return require("torch")


@pytest.fixture(autouse=True)
def _forget_test_ops():
    """The ops these tests define register themselves in ``mg.ops.OPS``: drop them after."""
    before = set(mg.ops.OPS)
    yield
    for name in set(mg.ops.OPS) - before:
        del mg.ops.OPS[name]


# ------------------------------------------------------------------ iteration and numpy


def test_a_tensor_iterates_over_its_first_axis_like_pytorch(torch):
    data = np.arange(6.0).reshape(3, 2)
    t = mg.Tensor(data, requires_grad=True)
    rows = list(t)
    assert len(rows) == 3
    for row, ref in zip(rows, torch.tensor(data)):
        assert isinstance(row, mg.Tensor)
        np.testing.assert_array_equal(row.data, ref.numpy())
    a, b, c = mg.Tensor(np.array([1.0, 2.0, 3.0]))
    assert (a.item(), b.item(), c.item()) == (1.0, 2.0, 3.0)
    # each row is an op of the graph: gradients flow back through the iteration
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(t.grad, [[2, 2], [0, 0], [1, 1]])


def test_iterating_a_0d_tensor_is_a_type_error_as_in_numpy():
    with pytest.raises(TypeError, match="0-d"):
        list(mg.Tensor(1.0))


def test_an_index_past_the_end_is_an_index_error_naming_the_shape():
    t = mg.Tensor(np.arange(3.0))
    with pytest.raises(IndexError, match=r"getitem: index 3 does not fit shape \(3,\)") as e:
        t[3]
    assert isinstance(e.value, mg.ShapeError)  # still the engine's own error, for the CLI
    with pytest.raises(ValueError, match="not enough values|too many values"):
        a, b = t


def test_numpy_reads_a_tensors_values():
    data = np.arange(4.0, dtype=np.float32)
    t = mg.Tensor(data)
    arr = np.asarray(t)
    assert arr.dtype == np.float32 and np.shares_memory(arr, data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t, copy=True)
    assert not np.shares_memory(copied, data)
    with pytest.raises(ValueError):  # numpy 2: copy=False may not copy
        np.asarray(t, dtype=np.float64, copy=False)
    np.testing.assert_array_equal(np.stack([t, t]), [data, data])
    # numpy still defers arithmetic to the tensor, so the graph is kept
    assert isinstance(np.ones(4, dtype=np.float32) + t, mg.Tensor)


# ------------------------------------------------------------------ pow, log


def test_x_to_the_zero_has_gradient_zero_everywhere_as_in_pytorch(torch):
    data = np.array([0.0, -2.0, 3.0])
    x = mg.Tensor(data, requires_grad=True)
    (x**0).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    (tx**0).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert mg.ops.PowOp(0).local_derivative(0, (data,), np.ones(3)).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("p", [1, 2, 3, -1, 0.5])
def test_other_powers_at_zero_match_pytorch(torch, p):
    data = np.array([0.0, 1.5])
    x = mg.Tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (x**p).sum().backward()
    (tx**p).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan])
def test_log_of_a_non_positive_number_is_a_value_error_said_once(value):
    x = mg.Tensor(np.array([1.0, value]))
    with pytest.raises(mg.NumericalError) as e:
        x.log()
    assert isinstance(e.value, ValueError)
    text = str(e.value)
    assert text.startswith("log: every input must be > 0")
    assert text.count("log:") == 1 and "log_softmax" in text


def test_a_numpy_error_inside_an_op_is_prefixed_once_and_not_called_broadcasting():
    class Picky(Op):
        name = "picky"

        def forward(self, a, b):
            raise ValueError("picky: b must be positive")

        def backward(self, g, needs):
            return g, g

    a = mg.Tensor(np.ones(3))
    with pytest.raises(mg.ShapeError) as e:
        apply(Picky(), a, a)
    assert str(e.value) == "picky: b must be positive"
    with pytest.raises(mg.ShapeError, match=r"^reshape: cannot reshape"):
        a.reshape(2, 2)
    with pytest.raises(mg.ShapeError, match=r"add: shapes \(3,\) and \(2,\) cannot be broadcast"):
        a + mg.Tensor(np.ones(2))


# ------------------------------------------------------------------ in-place changes


def test_changing_a_saved_input_in_place_before_backward_is_detected_by_name():
    x = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    y = (x * x).sum()
    x.data[...] = 0
    with pytest.raises(mg.GraphError) as e:
        y.backward()
    text = str(e.value)
    assert "'x'" in text and "changed in place" in text and "mul" in text
    assert "(3,)" in text and "t.data = " in text
    assert x.grad is None


def test_an_optimizer_step_before_backward_is_detected():
    model = mg.nn.MLP([4, 3, 2])
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    cost = mg.squared_error(model(np.ones((5, 4), dtype=np.float32)), [0, 1, 0, 1, 1])
    opt.step()  # the weights move under the recorded graph
    with pytest.raises(mg.GraphError, match="'weight'.*input 1 of matmul.*changed in place"):
        cost.backward()


def test_changing_one_value_of_a_large_saved_batch_is_detected():
    x = mg.Tensor(np.random.default_rng(0).random((64, 784), dtype=np.float32))
    w = mg.Tensor(np.ones((784, 3), dtype=np.float32), requires_grad=True)
    cost = (x @ w).sum()
    x.data[63, 700] += 1.0  # one value of 50,176
    with pytest.raises(mg.GraphError, match=r"input 0 of matmul \(shape \(64, 784\)\)"):
        cost.backward()


def test_rearranging_the_values_of_a_small_saved_array_is_detected():
    w = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="w")
    y = (w * w).sum()  # ∂y/∂w = 2w reads w
    w.data[:] = w.data[::-1].copy()  # same values, another order
    with pytest.raises(mg.GraphError, match="'w'"):
        y.backward()


def test_changing_an_ops_saved_output_in_place_is_detected():
    z = mg.Tensor(np.zeros(3), requires_grad=True)
    a = z.sigmoid()
    a.data *= 2
    with pytest.raises(mg.GraphError, match="the output of sigmoid"):
        a.sum().backward()


def test_a_change_no_needed_gradient_reads_is_fine_and_one_it_reads_is_not():
    # ∂(w·c)/∂w = c: the gradient of w reads c, never w itself (ops declare it in Op.reads)
    w = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = mg.Tensor(np.array([3.0, 4.0]))
    y = (w * c).sum()
    w.data[...] = 0
    y.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    y = (w * c).sum()
    c.data[...] = 0
    with pytest.raises(mg.GraphError, match=r"input 1 of mul \(shape \(2,\)\)"):
        y.backward()


def test_changes_that_do_not_touch_saved_arrays_are_fine():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * 3).sum()
    x.data = np.zeros(2)  # new values, the saved ones untouched
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    # writing the same values back is no change at all
    w = mg.Tensor(np.array([1.0, np.nan]), requires_grad=True)
    v = (w * w).sum()
    w.data[...] = w.data.copy()
    v.backward()
    np.testing.assert_array_equal(w.grad[:1], [2.0])


def test_the_normal_training_step_and_retained_graphs_pass_the_check():
    model = mg.nn.MLP([6, 5, 3])
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    x = np.random.default_rng(1).random((4, 6), dtype=np.float32)
    for _ in range(3):
        cost = mg.squared_error(model(x), [0, 1, 2, 0])
        opt.zero_grad()
        cost.backward(retain_graph=True)
        cost.backward()  # twice through the same, unchanged graph
        opt.step()


# ------------------------------------------------------------------ custom ops' gradients


class _WrongShape(Op):
    """x + b whose rule forgets to sum the bias gradient over the batch."""

    name = "forgetful_add"

    def forward(self, x, b):
        return x + b

    def backward(self, g, needs):
        return g, g


def test_a_gradient_of_the_wrong_shape_names_the_op_the_input_and_both_shapes():
    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    b = mg.Tensor(np.ones(4), requires_grad=True, name="bias")
    out = apply(_WrongShape(), x, b).sum()
    with pytest.raises(mg.ShapeError) as e:
        out.backward()
    text = str(e.value)
    assert "forgetful_add" in text and "'bias'" in text and "input 1" in text
    assert "(3, 4)" in text and "(4,)" in text
    assert b.grad is None


@pytest.mark.parametrize(
    "rule, error, words",
    [
        (lambda g: (g,), mg.GraphError, "one gradient per input (2"),
        (lambda g: g, mg.GraphError, "got ndarray"),
        (lambda g: (1.0, g), mg.DTypeError, "must be a numpy array, got float"),
    ],
)
def test_a_gradient_rule_returning_the_wrong_kind_of_thing_is_named(rule, error, words):
    class Odd(Op):
        name = "odd"

        def forward(self, a, b):
            return a * b

        def backward(self, g, needs):
            return rule(g)

    a = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(error, match="backward of odd") as e:
        apply(Odd(), a, a).sum().backward()
    assert words in str(e.value)


def test_a_list_of_gradients_of_the_right_shapes_is_accepted():
    class Listy(Op):
        name = "listy"

        def forward(self, a, b):
            return a + b

        def backward(self, g, needs):
            return [g, g]

    a = mg.Tensor(np.ones(2), requires_grad=True)
    b = mg.Tensor(np.ones(2), requires_grad=True)
    apply(Listy(), a, b).sum().backward()
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


# ------------------------------------------------------------------ sigmoid far left


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_returns_no_denormals_far_left(dtype):
    z = np.array([-1e6, -2000, -800, -745, -709, -100, -90, -88, -87.5, -87, -80, 0, 80, 1e6], dtype=dtype)
    s = mg.Tensor(z, requires_grad=True).sigmoid()
    tiny = np.finfo(dtype).tiny
    values = s.data
    assert np.all((values == 0) | (np.abs(values) >= tiny)), values
    assert np.all(np.diff(values) >= 0)  # still monotone
    s.sum().backward()
    # where σ is a normal number it is the exact value
    with np.errstate(over="ignore"):
        exact = 1 / (1 + np.exp(-z.astype(np.longdouble)))
    ok = exact >= 10 * tiny
    np.testing.assert_allclose(values[ok], exact[ok].astype(dtype), rtol=10 * np.finfo(dtype).eps)


def test_sigmoid_of_a_batch_far_left_keeps_later_products_fast():
    z = np.full((4, 16), -100.0, dtype=np.float32)
    s = mg.Tensor(z).sigmoid().data
    assert s.min() >= np.finfo(np.float32).tiny


# ------------------------------------------------------------------ dtypes and data


def test_float16_is_refused_everywhere_as_documented():
    with pytest.raises(mg.DTypeError, match="float32 or float64"):
        mg.Tensor([1.0], dtype=np.float16)
    with pytest.raises(mg.DTypeError, match="float32 or float64"):
        mg.set_default_dtype(np.float16)
    assert mg.get_default_dtype() == np.float32
    with pytest.raises(mg.DTypeError, match=r"float16 arrays are not supported.*astype\(np.float32\)"):
        mg.Tensor(np.ones(2, dtype=np.float16))
    assert mg.Tensor(np.ones(2, dtype=np.float16), dtype=np.float32).dtype == np.float32
    with pytest.raises(mg.DTypeError):
        mg.Tensor(np.ones(2, dtype=np.longdouble))


def test_a_dataset_refuses_complex_input_instead_of_dropping_the_imaginary_part():
    with pytest.raises(mg.DTypeError, match=r"complex.*x\.real or np\.abs\(x\)"):
        mg.data.Dataset(np.array([[1 + 2j, 3]]), [0])
    with pytest.raises(mg.DTypeError):
        mg.Tensor(np.array([1 + 2j]))
