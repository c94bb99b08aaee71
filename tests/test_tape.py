"""The tape: one written-down graph that every backward walk runs or reads."""

import numpy as np
import pytest

import microgradnet as mg
from microgradnet.data import batches
from microgradnet.replay import TrainStep
from microgradnet.tape import Tape
from microgradnet.tensor import apply
from microgradnet.viz.chain import chain_rule_paths
from microgradnet.viz.graph import collect_grads
from microgradnet.viz.stepper import page_data


def _graph(seed=0):
    rng = np.random.default_rng(seed)
    model = mg.nn.MLP([5, 4, 3], seed=seed, dtype=np.float64)
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6)
    return model, mg.squared_error(model(x), y)


def test_the_tape_lists_the_nodes_in_forward_order_with_their_input_slots():
    model, cost = _graph()
    tape = Tape.of(cost)
    names = [op.name for op in tape.ops]
    assert names == ["matmul", "add_bias", "sigmoid", "matmul", "add_bias", "sigmoid", "squared_error"]
    assert tape.tensor(tape.root) is cost
    for i, ins in enumerate(tape.inputs):
        node = tape.node(i)
        assert node.op is tape.ops[i]
        assert [tape.tensor(s) for s in ins] == list(node.inputs)
        assert all(s < tape.outs[i] for s in ins)  # every input is written down before its node
    w = model.layers[0].weight
    assert tape.tensor(tape.slot_of(w)) is w and tape.is_leaf_slot(tape.slot_of(w))
    assert tape.consumers(tape.slot_of(w)) == [(0, 1)]


def _spy(monkeypatch):
    walked = []
    original = Tape.backward

    def backward(self, seed, **kw):
        walked.append(self)
        return original(self, seed, **kw)

    monkeypatch.setattr(Tape, "backward", backward)
    return walked


def test_every_backward_walk_runs_the_tape(monkeypatch):
    walked = _spy(monkeypatch)
    model, cost = _graph()
    tape = Tape.of(cost)

    def walks_of_this_graph():  # tapes of cost's own graph: the very op objects, in order
        return sum(
            len(t.ops) == len(tape.ops) and all(a is b for a, b in zip(t.ops, tape.ops)) for t in walked
        )

    page = page_data(cost, model=model)  # the stepper's record
    assert walks_of_this_graph() == 1
    # the stepper showed exactly the tape's nodes, last to first
    assert [step["name"] for step in page["backward"]] == [op.name for op in reversed(tape.ops)]
    grads = collect_grads(cost)  # the graph picture's gradients
    assert walks_of_this_graph() == 2
    cost.backward()  # the engine
    assert walks_of_this_graph() == 3
    for p in model.parameters():  # the picture and the engine agree to the last bit
        np.testing.assert_array_equal(grads[id(p)], p.grad)

    x, y = np.random.default_rng(1).standard_normal((40, 5)), np.arange(40) % 3
    step = TrainStep(model, mg.squared_error, mg.optim.SGD(model.parameters(), lr=0.1))
    before = len(walked)
    for xb, yb in batches((x, y), 10):
        step(xb, yb)
    assert step.replays == 3
    # the replayed steps walked the recorded tape itself (the engine's walk, no copy of it)
    (recorded,) = step.tapes
    assert sum(t is recorded for t in walked[before:]) == 4  # the recording step and 3 replays


def test_without_the_tape_nothing_goes_backward(monkeypatch):
    def broken(self, seed, **kw):
        raise RuntimeError("the one walk")

    monkeypatch.setattr(Tape, "backward", broken)
    model, cost = _graph()
    for walk in (cost.backward, lambda: page_data(cost), lambda: collect_grads(cost)):
        with pytest.raises(RuntimeError, match="the one walk"):
            walk()


def test_chain_rule_reads_the_tape(monkeypatch):
    model, cost = _graph()
    w = model.layers[0].weight
    seen = []
    original = Tape.consumers

    def consumers(self, slot):
        seen.append(slot)
        return original(self, slot)

    monkeypatch.setattr(Tape, "consumers", consumers)
    paths = chain_rule_paths(cost, w)
    assert seen and len(paths) == 1
    assert paths[0].ops == ["matmul", "add_bias", "sigmoid", "matmul", "add_bias", "sigmoid", "squared_error"]
    cost.backward()
    np.testing.assert_allclose(paths[0].value, w.grad, rtol=1e-12)


def test_forward_reruns_the_recorded_graph_with_new_leaf_values():
    model, cost = _graph()
    tape = Tape.of(cost)
    w = model.layers[1].weight
    nudged = w.data.copy()
    nudged[0, 0] += 1e-3
    values = tape.forward({w: nudged})
    assert w.data[0, 0] != nudged[0, 0]  # the leaf itself is not changed
    w.data[...] = nudged
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6)
    fresh = mg.squared_error(model(x), y)
    assert values[tape.root] == fresh.data  # the same numbers as a new graph, to the last bit
    assert values[tape.root] != cost.data


def test_the_first_replay_compares_gradients_not_only_outputs():
    class GradScale(mg.ops.Op):
        """The identity forward; backward scales by a number fixed when the op is made."""

        name = "grad_scale"
        __slots__ = ("c",)

        def __init__(self, c):
            super().__init__()
            self.c = c

        def forward(self, x):
            self.saved = True
            return x

        def backward(self, g, needs):
            return (g * self.c,)

    class Net(mg.nn.Module):
        def __init__(self):
            self.mlp = mg.nn.MLP([5, 4, 3], seed=0)

        def forward(self, x):
            x = mg.as_tensor(x)
            # the gradient (not the output) depends on the batch's values
            return apply(GradScale(float(x.data.mean())), self.mlp(x))

    rng = np.random.default_rng(0)
    x = rng.random((40, 5)).astype(np.float32)
    y = np.arange(40) % 3
    runs = []
    for fast in (False, True):
        model = Net()
        opt = mg.optim.SGD(model.parameters(), lr=0.5)
        step = TrainStep(model, mg.squared_error, opt)
        for xb, yb in batches((x, y), 10):
            if fast:
                step(xb, yb)
            else:
                cost = mg.squared_error(model(xb), yb)
                opt.zero_grad()
                cost.backward()
                opt.step()
        runs.append(([p.data.copy() for p in model.parameters()], step))
    (plain, _), (fast, step) = runs
    assert step.replayable is False and step.replays == 0
    for a, b in zip(plain, fast):
        np.testing.assert_array_equal(a, b)


def test_no_two_public_classes_share_a_name():
    import importlib

    seen = {}
    for mod in ("microgradnet", "nn", "ops", "optim", "data", "datasets", "viz", "export", "tape", "replay"):
        m = importlib.import_module(mod if mod == "microgradnet" else f"microgradnet.{mod}")
        for name in getattr(m, "__all__", dir(m)):
            obj = getattr(m, name, None)
            if (
                isinstance(obj, type)
                and obj.__module__.startswith("microgradnet")
                and not name.startswith("_")
            ):
                seen.setdefault(name, set()).add(obj)
    clashes = {n: c for n, c in seen.items() if len(c) > 1}
    assert not clashes
    assert mg.nn.Sigmoid is not mg.ops.SigmoidOp and mg.ops.SigmoidOp.name == "sigmoid"


# ------------------------------------------------------------------ writing in place


def test_replay_writes_z_plus_b_and_sigma_into_the_matmul_buffer_like_a_hand_written_step():
    model, cost = _graph()
    tape = Tape.of(cost)
    plan = tape.plan_in_place()
    ops = [op.name for op in tape.ops]
    # add_bias writes into matmul's output, sigmoid into add_bias's: nothing else reads them
    assert sorted(plan) == [i for i, name in enumerate(ops) if name in ("add_bias", "sigmoid")]
    for i, q in plan.items():
        assert q == tape.inputs[i][0] and ops[tape.outs.index(q)] in ("matmul", "add_bias")
    fresh = tape.forward()[tape.root]
    again = tape.forward(in_place=True)
    assert again[tape.root] == fresh  # the same numbers to the last bit
    for i, q in plan.items():  # the slot written into now holds the op's output
        assert again[q] is again[tape.outs[i]]


def test_nothing_is_overwritten_that_another_op_reads_or_the_user_kept():
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((4, 3)))
    w = mg.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = mg.Tensor(rng.standard_normal(3), requires_grad=True)
    z = x @ w
    used_twice = (z.add_bias(b) + z).sum()  # z is read by add_bias and by add
    assert Tape.of(used_twice).plan_in_place() == {}

    s = (x @ w).sigmoid()  # sigmoid keeps its output for σ(1 − σ): relu may not overwrite it
    tape = Tape.of(s.relu().sum())
    assert [tape.ops[i].name for i in tape.plan_in_place()] == ["sigmoid"]

    z = x @ w
    z.retain_grad()  # the user asked for z's gradient: z stays z
    assert Tape.of(z.add_bias(b).sum()).plan_in_place() == {}

    flat = (x @ w).reshape(12).reshape(4, 3)  # a view of matmul's output: never written through
    assert Tape.of(flat.add_bias(b).sum()).plan_in_place() == {}

    leaf = mg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)  # a leaf: the user's array
    assert Tape.of(leaf.sigmoid().sum()).plan_in_place() == {}

    mixed = mg.Tensor(rng.standard_normal((4, 3)).astype(np.float32)) @ mg.Tensor(np.eye(3, dtype=np.float32))
    wide = mixed.add_bias(b)  # float32 rows + a float64 bias: a float64 output, not the same buffer
    assert Tape.of(wide.sum()).plan_in_place() == {}


def test_plan_in_place_needs_the_graph():
    _, cost = _graph()
    tape = Tape.of(cost).forget_tensors()
    with pytest.raises(mg.GraphError, match="no longer holds"):
        tape.plan_in_place()
