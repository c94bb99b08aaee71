"""The same random graphs built in microgradnet and in PyTorch: forward values and every leaf
gradient must agree (float64 to 1e-10 relative, float32 more loosely).

Each graph is written once, against a tiny backend interface (``MG`` or ``TorchB``), and run
in both engines from the same numpy leaves.
"""

import numpy as np
import pytest
from conftest import require

import microgradnet as mg


@pytest.fixture(scope="module")
def torch():
    return require("torch")


# ============================================================================ the two backends


class MG:
    name = "mg"

    def leaf(self, arr):
        return mg.Tensor(arr.copy(), requires_grad=True)

    def const(self, arr):
        return mg.Tensor(arr.copy())

    def sum(self, x, axis=None, keepdims=False):
        return x.sum(axis=axis, keepdims=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return x.mean(axis=axis, keepdims=keepdims)

    def softmax(self, x, axis):
        return x.softmax(axis)

    def log_softmax(self, x, axis):
        return x.log_softmax(axis)

    def transpose(self, x, axes):
        return x.transpose(axes)

    def index(self, x, idx):
        return x[idx]

    def squared_error(self, a, y):
        return mg.squared_error(a, y)

    def cross_entropy(self, z, target):
        return mg.cross_entropy(z, target)

    def values(self, t):
        return np.asarray(t.data)

    def grad(self, t):
        return t.grad


class TorchB:
    name = "torch"

    def __init__(self, torch):
        self.t = torch

    def leaf(self, arr):
        return self.t.tensor(arr.copy(), requires_grad=True)

    def const(self, arr):
        return self.t.tensor(arr.copy())

    def sum(self, x, axis=None, keepdims=False):
        return (
            x.sum()
            if axis is None and not keepdims
            else x.sum(dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims)
        )

    def mean(self, x, axis=None, keepdims=False):
        return (
            x.mean()
            if axis is None and not keepdims
            else x.mean(dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims)
        )

    def softmax(self, x, axis):
        return x.softmax(dim=axis)

    def log_softmax(self, x, axis):
        return x.log_softmax(dim=axis)

    def transpose(self, x, axes):
        return x.permute(*axes)

    def index(self, x, idx):
        parts = idx if isinstance(idx, tuple) else (idx,)
        conv = tuple(self.t.as_tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
        return x[conv if isinstance(idx, tuple) else conv[0]]

    def squared_error(self, a, y):
        if isinstance(y, np.ndarray) and y.dtype.kind in "iu":
            y = np.eye(a.shape[-1], dtype=np.float64)[y]
        y = self.t.as_tensor(y, dtype=a.dtype) if isinstance(y, np.ndarray) else y
        n = a.shape[0] if a.ndim == 2 else 1
        return ((a - y) ** 2).sum() / n

    def cross_entropy(self, z, target):
        tgt = self.t.as_tensor(target)
        if tgt.is_floating_point():
            tgt = tgt.to(z.dtype)
        return self.t.nn.functional.cross_entropy(z, tgt)

    def values(self, t):
        return t.detach().numpy()

    def grad(self, t):
        return None if t.grad is None else t.grad.numpy()


# ============================================================================ comparing

TOL = {np.float64: dict(rtol=1e-10, scale=1e-10), np.float32: dict(rtol=2e-4, scale=2e-5)}


def close(ours, theirs, dtype, what):
    tol = TOL[dtype]
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    assert ours.dtype == np.dtype(dtype), f"{what}: dtype {ours.dtype}, expected {np.dtype(dtype)}"
    atol = tol["scale"] * max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=tol["rtol"], atol=atol, err_msg=what)


def run_and_compare(torch, build, leaves, dtype):
    """``build(backend, leaf_tensors) -> (scalar cost, [intermediate outputs])``."""
    leaves = [np.asarray(a, dtype=dtype) for a in leaves]
    m, t = MG(), TorchB(torch)
    m_leaves = [m.leaf(a) for a in leaves]
    t_leaves = [t.leaf(a) for a in leaves]
    m_cost, m_outs = build(m, m_leaves)
    t_cost, t_outs = build(t, t_leaves)
    for i, (a, b) in enumerate(zip(m_outs, t_outs)):
        close(m.values(a), t.values(b), dtype, f"intermediate {i}")
    close(m.values(m_cost), t.values(t_cost), dtype, "cost")
    m_cost.backward()
    t_cost.backward()
    used = 0
    for i, (a, b) in enumerate(zip(m_leaves, t_leaves)):
        ga, gb = m.grad(a), t.grad(b)
        if gb is None:
            assert ga is None or not np.any(ga), f"leaf {i}: torch has no grad but we have {ga}"
            continue
        assert ga is not None, f"leaf {i}: no gradient but torch has one"
        close(ga, gb, dtype, f"grad of leaf {i}")
        used += 1
    return used


# ============================================================================ random elementwise graphs

ELEM_SHAPES = [(4, 5), (1, 5), (5,), (4, 1), (), (4, 5)]

UNARY = [
    "sigmoid",
    "tanh",
    "relu",
    "exp_tanh",
    "log_pos",
    "pow2",
    "pow3",
    "sqrt_pos",
    "recip",
    "neg",
    "softmax0",
    "softmax1",
    "log_softmax",
    "scale",
]
BINARY = ["add", "sub", "mul", "div", "rsub_const", "mul_const"]


def elementwise_program(seed, steps=14):
    """A random program: a list of (op, operand indices) over a growing pool of values."""
    r = np.random.default_rng(seed)
    prog = []
    pool = len(ELEM_SHAPES)
    shapes = list(ELEM_SHAPES)
    for _ in range(steps):
        if r.random() < 0.5:
            op = str(r.choice(BINARY))
            i, j = (int(k) for k in r.integers(0, pool, 2))
            prog.append((op, i, j))
            shapes.append(np.broadcast_shapes(shapes[i], shapes[j]))
        else:
            op = str(r.choice(UNARY))
            choices = (
                [k for k in range(pool) if len(shapes[k]) == 2]
                if op.startswith(("softmax", "log_softmax"))
                else list(range(pool))
            )
            i = int(r.choice(choices))
            prog.append((op, i, None))
            shapes.append(shapes[i])
        pool += 1
    return prog


def run_program(B, leaves, prog):
    vals = list(leaves)
    for op, i, j in prog:
        x = vals[i]
        if op == "add":
            y = x + vals[j]
        elif op == "sub":
            y = x - vals[j]
        elif op == "mul":
            y = x * vals[j]
        elif op == "div":
            y = x / (vals[j] * vals[j] + 0.5)
        elif op == "rsub_const":
            y = 1.5 - x
        elif op == "mul_const":
            y = x * 0.75 + 0.25
        elif op == "sigmoid":
            y = x.sigmoid()
        elif op == "tanh":
            y = x.tanh()
        elif op == "relu":
            y = x.relu()
        elif op == "exp_tanh":
            y = x.tanh().exp()
        elif op == "log_pos":
            y = (x * x + 0.5).log()
        elif op == "pow2":
            y = x.tanh() ** 2
        elif op == "pow3":
            y = x.tanh() ** 3
        elif op == "sqrt_pos":
            y = (x * x + 1.0) ** 0.5
        elif op == "recip":
            y = (x * x + 1.0) ** -1
        elif op == "neg":
            y = -x
        elif op == "softmax0":
            y = B.softmax(x, 0)
        elif op == "softmax1":
            y = B.softmax(x, -1)
        elif op == "log_softmax":
            y = B.log_softmax(x, 1)
        elif op == "scale":
            y = x / 3.0
        else:  # pragma: no cover
            raise AssertionError(op)
        vals.append(y)
    total = None
    for k, v in enumerate(vals[len(leaves) :]):
        term = B.sum(v) * float(k % 3 + 1) if k % 2 else B.mean(v)
        total = term if total is None else total + term
    return total, vals[len(leaves) :]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(8))
def test_random_elementwise_graphs(torch, seed, dtype):
    r = np.random.default_rng(100 + seed)
    leaves = [r.uniform(-2, 2, s) for s in ELEM_SHAPES]
    prog = elementwise_program(seed)
    used = run_and_compare(torch, lambda B, ls: run_program(B, ls, prog), leaves, dtype)
    assert used >= 1


# ============================================================================ random MLP-like graphs

ACTS = ["sigmoid", "tanh", "relu", None]


def mlp_spec(seed):
    r = np.random.default_rng(seed)
    depth = int(r.integers(1, 4))
    sizes = [int(s) for s in r.integers(2, 7, depth + 1)]
    acts = [ACTS[int(k)] for k in r.integers(0, len(ACTS), depth)]
    n = int(r.integers(1, 7))
    loss = ["se_labels", "se_targets", "ce_labels", "ce_probs", "softmax_log_mean"][seed % 5]
    return sizes, acts, n, loss, r


def mlp_graph(B, leaves, acts, loss, target):
    x, params = leaves[0], leaves[1:]
    h = x
    outs = []
    for k, act in enumerate(acts):
        w, b = params[2 * k], params[2 * k + 1]
        h = h @ w + b
        outs.append(h)
        if act is not None:
            h = getattr(h, act)()
            outs.append(h)
    if loss in ("se_labels", "se_targets"):
        cost = B.squared_error(h.sigmoid(), target)
    elif loss in ("ce_labels", "ce_probs"):
        cost = B.cross_entropy(h, target)
    else:
        cost = -B.mean(B.log_softmax(h, -1)[:, 0])
    return cost, outs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(10))
def test_random_mlp_graphs(torch, seed, dtype):
    sizes, acts, n, loss, r = mlp_spec(seed)
    leaves = [r.standard_normal((n, sizes[0]))]
    for i in range(len(acts)):
        leaves.append(r.standard_normal((sizes[i], sizes[i + 1])) / np.sqrt(sizes[i]))
        leaves.append(r.standard_normal(sizes[i + 1]) * 0.1)
    c = sizes[-1]
    if loss in ("se_labels", "ce_labels"):
        target = r.integers(0, c, n)
    elif loss == "se_targets":
        target = r.uniform(0, 1, (n, c)).astype(dtype)
    else:
        p = r.uniform(0.1, 1, (n, c))
        target = (p / p.sum(1, keepdims=True)).astype(dtype)
    used = run_and_compare(torch, lambda B, ls: mlp_graph(B, ls, acts, loss, target), leaves, dtype)
    assert used == len(leaves)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mnist_shaped_network(torch, dtype):
    """784-16-16-10 sigmoid with squared error on a batch of 32, the videos' network."""
    r = np.random.default_rng(7)
    sizes = [784, 16, 16, 10]
    leaves = [r.uniform(0, 1, (32, 784))]
    for i in range(3):
        leaves += [r.standard_normal((sizes[i], sizes[i + 1])) * 0.1, r.standard_normal(sizes[i + 1]) * 0.1]
    labels = r.integers(0, 10, 32)
    used = run_and_compare(
        torch, lambda B, ls: mlp_graph(B, ls, ["sigmoid"] * 2 + [None], "se_labels", labels), leaves, dtype
    )
    assert used == 7


def test_mlp_module_matches_torch(torch):
    """The nn.MLP module itself (not a hand-built graph) against torch, gradients of every parameter."""
    model = mg.nn.MLP([5, 7, 4], activation="relu", output_activation=None, dtype=np.float64, seed=3)
    r = np.random.default_rng(0)
    x = r.standard_normal((9, 5))
    y = r.integers(0, 4, 9)
    cost = mg.cross_entropy(model(x), y)
    cost.backward()
    tp = [torch.tensor(p.data.copy(), requires_grad=True) for p in model.parameters()]
    tx = torch.tensor(x)
    tcost = torch.nn.functional.cross_entropy(torch.relu(tx @ tp[0] + tp[1]) @ tp[2] + tp[3], torch.tensor(y))
    tcost.backward()
    close(cost.data, tcost.detach().numpy(), np.float64, "cost")
    for (name, p), t in zip(model.named_parameters(), tp):
        close(p.grad, t.grad.numpy(), np.float64, name)


# ============================================================================ structured graphs


def structured_graph(B, leaves):
    """3-D batches, broadcasting matmul, reductions with axes, transpose, reshape and indexing."""
    x, w, b, v, s = leaves
    h = (x @ w + b).tanh()  # (2, 3, 4) @ (4, 5) + (5,)
    p = B.softmax(h, 1)  # over the middle axis
    q = B.transpose(p, (0, 2, 1))  # (2, 5, 3)
    k = q @ v  # (2, 5, 3) @ (2, 3, 2)
    m = B.sum(k, axis=(0, 2), keepdims=False)  # (5,)
    r = B.mean(h * s, axis=-1, keepdims=True)  # (2, 3, 1)
    g = B.index(h, (slice(None), np.array([0, 2, 2]), 1))  # (2, 3), repeats
    e = B.index(h, (1, Ellipsis, slice(1, None, 2)))  # (3, 2)
    z = k.reshape(10, 2)
    cost = (
        B.sum(m**2)
        + B.sum(r) * 2.0
        + B.sum(g * g)
        - B.mean(e)
        + B.sum(z.sigmoid())
        + B.sum(B.log_softmax(z, 0)[np.array([0, 0, 9])])
    )
    return cost, [h, p, q, k, m, r, g, e, z]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(3))
def test_structured_graph(torch, seed, dtype):
    r = np.random.default_rng(200 + seed)
    leaves = [
        r.standard_normal((2, 3, 4)),
        r.standard_normal((4, 5)),
        r.standard_normal(5),
        r.standard_normal((2, 3, 2)),
        r.uniform(0.5, 1.5, (4, 1, 1))[0],
    ]
    used = run_and_compare(torch, structured_graph, leaves, dtype)
    assert used == 5


@pytest.mark.parametrize(
    "shapes",
    [
        ((4,), (4,)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((1, 3, 4), (2, 4, 2)),
    ],
)
def test_matmul_shapes_against_torch(torch, shapes):
    r = np.random.default_rng(5)
    leaves = [r.standard_normal(s) for s in shapes]

    def build(B, ls):
        out = ls[0] @ ls[1]
        return B.sum(out.tanh() * out), [out]

    assert run_and_compare(torch, build, leaves, np.float64) == 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_costs_against_torch(torch, dtype):
    r = np.random.default_rng(9)
    z = r.standard_normal((6, 4)) * 3
    labels = r.integers(0, 4, 6)
    onehot = np.eye(4, dtype=dtype)[labels]
    y = r.uniform(0, 1, (6, 4)).astype(dtype)
    for build in (
        lambda B, ls: (B.cross_entropy(ls[0], labels), []),
        lambda B, ls: (B.cross_entropy(ls[0], onehot), []),
        lambda B, ls: (B.squared_error(ls[0], labels), []),
        lambda B, ls: (B.squared_error(ls[0], y), []),
        lambda B, ls: (B.squared_error(ls[0][0], y[0]), []),
        lambda B, ls: (B.squared_error(ls[0].sigmoid(), ls[0].tanh()), []),
    ):
        assert run_and_compare(torch, build, [z], dtype) == 1
