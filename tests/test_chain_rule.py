"""chain_rule: the paths from the cost to a tensor, their products, and their sum = .grad."""

import io

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.viz.chain import chain_rule, chain_rule_paths
from microgradnet.viz.stepper import toy_network


def reference_grads():
    cost, p = toy_network()
    cost.backward()
    return {k: float(v.grad) for k, v in p.items()}


def test_toy_chain_rule_equals_grad_and_reads_like_the_video(capsys):
    cost, p = toy_network()
    ref = reference_grads()
    for name in ("w1", "b1", "w2", "b2"):
        paths = chain_rule_paths(cost, p[name])
        assert len(paths) == 1 and paths[0].scalar
        assert float(paths[0].value) == pytest.approx(ref[name], rel=1e-12)
        prod = np.prod([f["value"] for f in paths[0].factors])
        assert prod == pytest.approx(ref[name], rel=1e-12)
    text = chain_rule(cost, p["w2"])
    assert capsys.readouterr().out.strip() == text
    assert text.splitlines()[0] == "∂C/∂w2 = ∂(w2·a1)/∂w2 · ∂z2/∂(w2·a1) · ∂a2/∂z2 · ∂C/∂a2"
    assert text.splitlines()[1].startswith("       = ")  # the next line, under the first "="
    text = " ".join(text.split())
    shown = [float(x) for x in text.split(" = ")[2].split(" · ")]
    assert shown[1] == 1
    assert float(text.split(" = ")[-1]) == pytest.approx(ref["w2"], rel=1e-3)
    assert all(t.grad is None for t in p.values())  # chain_rule never touches .grad


def test_works_after_backward_for_scalars():
    cost, p = toy_network()
    cost.backward()
    buf = io.StringIO()
    text = chain_rule(cost, p["b1"], file=buf)
    assert buf.getvalue().strip() == text
    assert float(text.split(" = ")[-1]) == pytest.approx(float(p["b1"].grad), rel=1e-3)


def test_tensor_used_twice_sums_its_paths():
    x = mg.tensor(0.7, requires_grad=True, name="x", dtype=np.float64)
    w = mg.tensor(-1.3, requires_grad=True, name="w", dtype=np.float64)
    cost = (x * w).sigmoid() * x + w
    paths = chain_rule_paths(cost, x)
    assert len(paths) == 2
    total = sum(float(p.value) for p in paths)
    text = chain_rule(cost, x, file=io.StringIO())
    cost.backward()
    assert total == pytest.approx(float(x.grad), rel=1e-12)
    assert "2 paths" in text and text.splitlines()[-1].startswith("total: ∂C/∂x = ")
    assert float(text.splitlines()[-1].split(" = ")[-1]) == pytest.approx(float(x.grad), rel=1e-3)


def test_x_times_x_has_two_paths_through_one_op():
    x = mg.tensor(1.5, requires_grad=True, name="x", dtype=np.float64)
    cost = x * x
    paths = chain_rule_paths(cost, x)
    assert len(paths) == 2
    cost.backward()
    assert sum(float(p.value) for p in paths) == pytest.approx(float(x.grad))


def test_arrays_are_vector_jacobian_products_that_add_up_to_grad():
    model = mg.nn.MLP([6, 4, 3], seed=0, dtype=np.float64)
    x = np.random.default_rng(0).random((2, 6))
    cost = mg.squared_error(model(x), np.array([1, 2]))
    W = model.layers[0].weight
    paths = chain_rule_paths(cost, W, model=model)
    assert not paths[0].scalar
    assert paths[0].symbols[0] == "W1" and paths[0].symbols[-1] == "C"
    assert paths[0].ops == ["matmul", "add_bias", "sigmoid", "matmul", "add_bias", "sigmoid", "squared_error"]
    text = chain_rule(cost, W, model=model, file=io.StringIO())
    assert "vector-Jacobian" in text and "layers.0.weight" in text and "6×4" in text
    total = sum(p.value for p in paths)
    cost.backward()
    np.testing.assert_allclose(total, W.grad, rtol=1e-10, atol=1e-14)
    with pytest.raises(mg.GraphError, match="retain_graph=True"):
        chain_rule_paths(cost, W)  # array products need the released buffers


def test_every_line_fits_80_columns_and_says_the_same():
    cost, p = toy_network()
    model = mg.nn.MLP([784, 16, 16, 10], seed=0, dtype=np.float64)
    batch = mg.squared_error(model(np.random.default_rng(0).random((4, 784))), [1, 2, 3, 4])
    texts = [chain_rule(cost, p[name], file=io.StringIO()) for name in ("w1", "b1", "w2", "b2")]
    texts.append(chain_rule(batch, model.layers[0].weight, model=model, file=io.StringIO()))
    for text in texts:
        assert max(len(line) for line in text.splitlines()) <= 80, text
    # the breaks are only breaks: joined up, the toy's w1 is one chain of seven factors
    w1 = " ".join(texts[0].split())
    assert w1.startswith("∂C/∂w1 = ∂(w1·a0)/∂w1 · ∂z1/∂(w1·a0) · ∂a1/∂z1 · ∂(w2·a1)/∂a1 ·")
    assert len(w1.split(" = ")[2].split(" · ")) == 7


def test_wrt_not_in_graph():
    cost, _ = toy_network()
    with pytest.raises(mg.GraphError, match="not one of the tensors"):
        chain_rule_paths(cost, mg.tensor(1.0, requires_grad=True))


def test_the_public_name_stays_the_function_after_the_module_is_imported():
    import importlib

    import microgradnet as mg

    importlib.import_module("microgradnet.viz.chain")
    from microgradnet.viz import chain_rule as fn

    assert callable(mg.viz.chain_rule) and fn is mg.viz.chain_rule
    assert mg.viz.chain_rule.__name__ == "chain_rule"


def test_chain_rule_shows_once_in_ipython(capsys):
    """In a notebook the printed text is the output: the returned str adds nothing (not the
    same text again, quoted, with its line breaks as \\n)."""
    formatters = require("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    cost, p = toy_network()
    text = chain_rule(cost, p["w2"])
    printed = capsys.readouterr().out
    assert printed == text + "\n" and isinstance(text, str)
    assert fmt.format(text) == ({}, {})  # already on the screen: nothing more

    quiet = chain_rule(cost, p["w2"], file=io.StringIO())  # printed elsewhere: shown when displayed
    assert quiet == text and not quiet.printed
    fmt.format(quiet)
    assert capsys.readouterr().out == text + "\n"
    pretty = formatters.PlainTextFormatter()
    assert pretty(text) == text  # as text, not as a quoted repr
