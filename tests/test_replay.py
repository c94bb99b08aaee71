"""Record once, replay (microgradnet.replay.TrainStep): the same numbers as the plain loop."""

import gc
import importlib.util
import weakref

import numpy as np
import pytest
from conftest import ROOT

import microgradnet as mg
from microgradnet.data import batches
from microgradnet.replay import TrainStep


def _data(n=95, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    return x, y


def _model(act="sigmoid", out="same", dtype=np.float32, seed=3):
    return mg.nn.MLP([12, 8, 6, 4], activation=act, output_activation=out, dtype=dtype, seed=seed)


def _opt(kind, params):
    if kind == "sgd":
        return mg.optim.SGD(params, lr=0.5)
    if kind == "momentum":
        return mg.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return mg.optim.Adam(params, lr=0.01)


def _train(fast, act, loss, kind, dtype, target="labels", batch=10, epochs=2):
    x, y = _data()
    x = x.astype(dtype)
    if target == "onehot":
        y = mg.data.one_hot(y, 4, dtype=dtype)
    model = _model(act, None if loss is mg.cross_entropy else "same", dtype)
    opt = _opt(kind, model.parameters())
    step = TrainStep(model, loss, opt)
    costs = []
    for epoch in range(epochs):
        for xb, yb in batches((x, y), batch, shuffle=True, seed=epoch):
            if fast:
                c = step(xb, yb)
            else:
                cost = loss(model(xb), yb)
                opt.zero_grad()
                cost.backward()
                opt.step()
                c = float(cost.data)
            assert isinstance(c, float)
            costs.append(c)
    return costs, [p.data.copy() for p in model.parameters()], step


@pytest.mark.parametrize("act", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("loss", [mg.squared_error, mg.cross_entropy], ids=["mse", "xent"])
@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_replay_matches_plain_loop(act, loss, kind, dtype):
    plain_costs, plain_w, _ = _train(False, act, loss, kind, dtype)
    fast_costs, fast_w, step = _train(True, act, loss, kind, dtype)
    assert step.replays > 0 and step.plain_steps == 0
    assert fast_costs == plain_costs  # bit for bit: the same ops in the same order
    for a, b in zip(plain_w, fast_w):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss", [mg.squared_error, mg.cross_entropy], ids=["mse", "xent"])
def test_one_hot_targets_match(loss):
    plain_costs, plain_w, _ = _train(False, "sigmoid", loss, "sgd", np.float32, target="onehot")
    fast_costs, fast_w, step = _train(True, "sigmoid", loss, "sgd", np.float32, target="onehot")
    assert step.replays > 0
    assert fast_costs == plain_costs
    for a, b in zip(plain_w, fast_w):
        np.testing.assert_array_equal(a, b)


def test_partial_last_batch_records_its_own_tape():
    # 95 examples in batches of 10: nine full batches, then one of 5, every epoch
    _, _, step = _train(True, "sigmoid", mg.squared_error, "sgd", np.float32, epochs=3)
    assert step.records == 2  # one tape for (10, 12), one for (5, 12), kept across epochs
    assert step.replays == 3 * 10 - 2
    assert len(step._tapes) == 2


def test_float32_inputs_to_a_float64_model_are_converted_like_linear_does():
    x, y = _data()
    results = []
    for fast in (False, True):
        model = _model(dtype=np.float64)
        opt = mg.optim.SGD(model.parameters(), lr=0.5)
        step = TrainStep(model, mg.squared_error, opt)
        for xb, yb in batches((x, y), 10):
            if fast:
                step(xb, yb)
            else:
                c = mg.squared_error(model(xb), yb)
                opt.zero_grad()
                c.backward()
                opt.step()
        results.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*results):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


def test_grads_are_set_like_backward_does():
    x, y = _data()
    model = _model()
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    step = TrainStep(model, mg.squared_error, opt)
    for _ in range(3):
        step(x[:10], y[:10])
    grads = [p.grad for p in model.parameters()]
    ref = _model()
    for p, q in zip(ref.parameters(), model.parameters()):
        p.data[...] = q.data
    # one more replayed step against a plain backward from the same weights
    ref_opt = mg.optim.SGD(ref.parameters(), lr=0.5)
    cost = mg.squared_error(ref(x[:10]), y[:10])
    ref_opt.zero_grad()
    cost.backward()
    step(x[:10], y[:10])
    for p, q in zip(ref.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)
        assert q.grad.base is None or not np.shares_memory(q.grad, q.data)
    ids = {id(p.grad) for p in model.parameters()}
    assert len(ids) == len(grads)  # no two parameters share a gradient array


def test_model_change_re_records():
    x, y = _data()
    model = _model()
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    step = TrainStep(model, mg.squared_error, opt)
    step(x[:10], y[:10])
    step(x[10:20], y[10:20])
    assert step.records == 1 and step.replays == 1
    # swap the middle layer's activation: same parameters, different graph
    model.layers[1].activation = mg.nn.ReLU()
    c = step(x[20:30], y[20:30])
    assert step.records == 2
    ref = mg.squared_error(model(x[20:30]), y[20:30])  # after the step: just check it runs
    assert np.isfinite(c) and np.isfinite(float(ref.data))
    # freeze a parameter: its gradient is no longer computed, so the graph differs
    model.layers[0].bias.requires_grad = False
    step(x[30:40], y[30:40])
    assert step.records == 3
    assert model.layers[0].bias.grad is None


def test_replace_a_layer_re_records_and_matches_plain():
    x, y = _data()
    runs = []
    for fast in (False, True):
        model = _model()
        opt = mg.optim.SGD(model.parameters(), lr=0.5)
        step = TrainStep(model, mg.squared_error, opt)
        costs = []
        for i in range(0, 60, 10):
            if i == 30:
                model.layers[2] = mg.nn.Linear(6, 4, "sigmoid", seed=9)
                opt = mg.optim.SGD(model.parameters(), lr=0.5)
                step.optimizer = opt
            if fast:
                costs.append(step(x[i : i + 10], y[i : i + 10]))
            else:
                c = mg.squared_error(model(x[i : i + 10]), y[i : i + 10])
                opt.zero_grad()
                c.backward()
                opt.step()
                costs.append(float(c.data))
        runs.append((costs, [p.data.copy() for p in model.parameters()], step))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert runs[1][2].records == 2


def test_a_model_that_depends_on_the_data_values_is_not_replayed():
    class Scaled(mg.nn.Module):
        """Scales the output by a number computed from the batch, as a *constant*: the graph
        looks the same every step but the constant changes with the data, which replay can
        only find out by checking its first replay against the engine."""

        def __init__(self):
            self.net = _model()

        def forward(self, x):
            x = x if isinstance(x, mg.Tensor) else mg.Tensor(x)
            return self.net(x) * float(1.0 + abs(x.data.mean()))

    x, y = _data()
    runs = []
    for fast in (False, True):
        model = Scaled()
        opt = mg.optim.SGD(model.parameters(), lr=0.5)
        step = TrainStep(model, mg.squared_error, opt)
        costs = []
        for xb, yb in batches((x, y), 10):
            if fast:
                costs.append(step(xb, yb))
            else:
                c = mg.squared_error(model(xb), yb)
                opt.zero_grad()
                c.backward()
                opt.step()
                costs.append(float(c.data))
        runs.append((costs, step))
    assert runs[0][0] == runs[1][0]
    assert runs[1][1].replayable is False and runs[1][1].replays == 0


def test_bad_labels_raise_the_loss_functions_error():
    x, y = _data()
    model = _model()
    step = TrainStep(model, mg.squared_error, mg.optim.SGD(model.parameters(), lr=0.5))
    step(x[:10], y[:10])
    step(x[10:20], y[10:20])
    bad = y[20:30].copy()
    bad[3] = -1
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="labels must lie"):
        step(x[20:30], bad)
    bad[3] = 4
    with pytest.raises(ValueError, match="labels must lie"):
        step(x[20:30], bad)
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, p.data)  # nothing moved


def test_other_loss_functions_run_the_plain_way():
    x, y = _data()
    model = _model()
    step = TrainStep(
        model, lambda out, t: mg.squared_error(out, t) * 2.0, mg.optim.SGD(model.parameters(), lr=0.5)
    )
    for _ in range(3):
        step(x[:10], y[:10])
    assert step.plain_steps == 3 and step.replays == 0


def test_no_graph_is_kept_alive_between_steps():
    x, y = _data()
    model = _model()
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    step = TrainStep(model, mg.squared_error, opt)
    seen = []
    original = model.forward

    def spy(inp):
        out = original(inp)
        seen.append(weakref.ref(out))
        return out

    model.forward = spy
    step(x[:10], y[:10])  # records: builds a real graph
    assert len(seen) == 1
    step(x[10:20], y[10:20])  # replays (and checks the tape once against the engine)
    step(x[20:30], y[20:30])
    gc.collect()
    assert all(r() is None for r in seen)
    # the tape keeps its ops, not the recorded graph's tensors, and no batch buffers after a step
    (tape,) = step.tapes
    assert tape.tensors is None
    assert all(op.saved is None for op in tape.ops)
    params = {id(p) for p in model.parameters()}
    assert all(leaf.is_leaf for _, leaf in tape.leaves)
    assert sum(id(leaf) in params for _, leaf in tape.leaves) == len(params)


def test_fit_fast_and_plain_give_the_same_history():
    x, y = _data(n=200, d=12)
    histories = []
    weights = []
    for fast in (False, True):
        model = _model()
        h = mg.fit(
            model, (x, y), epochs=2, lr=0.5, batch_size=16, progress=False, fast=fast, test=(x[:50], y[:50])
        )
        histories.append(h)
        weights.append([p.data.copy() for p in model.parameters()])
    assert histories[0].step_cost == histories[1].step_cost
    assert histories[0].cost == histories[1].cost
    assert histories[0].test_accuracy == histories[1].test_accuracy
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_fit_fast_with_cross_entropy_and_adam():
    x, y = _data(n=120, d=12)
    out = []
    for fast in (False, True):
        model = _model(act="relu", out=None)
        opt = mg.optim.Adam(model.parameters(), lr=0.01)
        h = mg.fit(
            model,
            (x, y),
            epochs=2,
            batch_size=32,
            loss="cross_entropy",
            optimizer=opt,
            progress=False,
            fast=fast,
        )
        out.append(h.step_cost)
    assert out[0] == out[1]


def test_under_no_grad_the_step_fails_like_the_plain_loop():
    x, y = _data()
    model = _model()
    step = TrainStep(model, mg.squared_error, mg.optim.SGD(model.parameters(), lr=0.5))
    step(x[:10], y[:10])
    with mg.no_grad(), pytest.raises(mg.GraphError):
        step(x[10:20], y[10:20])


def test_benchmark_quick_runs_and_prints_a_table(tmp_path):
    spec = importlib.util.spec_from_file_location("mg_bench_run", ROOT / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    # a few hundred random images, one thread: a smoke test of the script, not a measurement
    out = tmp_path / "results.md"
    text = run.main(
        ["--quick", "--engines", "microgradnet fit,microgradnet eager", "--dtypes", "float32"]
        + ["--threads", "1", "--rounds", "1", "--out", str(out)]
    )
    assert "random data" in text and "disagree" not in text  # the engines computed the same
    for engine in ("microgradnet fit", "microgradnet eager", "numpy floor"):
        assert text.count(f"\n| {engine} |") == 1  # its row in the table
    assert "| numpy floor | " in text and "1.00×" in text
    assert "### Targets" in text and "### For the README" in text
    assert out.read_text().strip() == text.strip()


class _Residual(mg.nn.Module):
    """Not a plain chain: the hidden layer's output is used twice."""

    def __init__(self):
        self.a = mg.nn.Linear(12, 12, "tanh", seed=1)
        self.b = mg.nn.Linear(12, 4, seed=2)

    def forward(self, x):
        h = self.a(x)
        return self.b(h + h * 0.5)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _model("sigmoid"),
        lambda: _model("relu", out=None),
        lambda: _model("tanh", dtype=np.float64),
        lambda: _Residual(),
    ],
)
@pytest.mark.parametrize("loss", [mg.squared_error, mg.cross_entropy])
def test_chains_and_other_graphs_match_the_plain_loop_bit_for_bit(make, loss):
    x, y = _data()
    runs = []
    for fast in (True, False):
        model = make()
        opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        step = TrainStep(model, loss, opt)
        costs = []
        for xb, yb in batches((x, y), batch_size=10, shuffle=True, seed=0):
            if fast:
                costs.append(step(xb, yb))
            else:
                cost = loss(model(xb), yb)
                opt.zero_grad()
                cost.backward()
                opt.step()
                costs.append(float(cost.data))
        runs.append(
            (costs, [p.data.copy() for p in model.parameters()], [p.grad.copy() for p in model.parameters()])
        )
        if fast:
            assert step.replays > 0 and step.plain_steps == 0
    (c1, w1, g1), (c2, w2, g2) = runs
    assert c1 == c2
    for a, b in zip(w1 + g1, w2 + g2):
        np.testing.assert_array_equal(a, b)
