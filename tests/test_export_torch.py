"""microgradnet ↔ PyTorch: same outputs, same weights, names and layout, clear errors."""

import sys

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.export import from_torch, load_torch, name_map, save_torch, to_torch
from microgradnet.export.torch_bridge import ExportError

TOL = {np.float32: 1e-5, np.float64: 1e-12}
SHAPES = [[4, 3, 2], [784, 16, 16, 10], [10, 32, 32, 3]]
ACTIVATIONS = [("sigmoid", "same"), ("relu", None), ("tanh", "softmax"), ("sigmoid", "softmax")]


def assert_close(got, want, dtype):
    """Equal within ``TOL`` relative to the size of the outputs (a value near 0 is compared on
    the scale of the others, not on its own)."""
    tol = TOL[dtype]
    assert got.dtype == want.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * float(np.abs(want).max()))


def mg_out(model, x):
    with mg.no_grad():
        return model(x).data


@pytest.fixture
def torch():
    return require("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,out_act", ACTIVATIONS)
@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_to_torch_gives_the_same_outputs(torch, sizes, act, out_act, dtype):
    model = mg.nn.MLP(sizes, activation=act, output_activation=out_act, dtype=dtype, seed=3)
    x = np.random.default_rng(0).standard_normal((9, sizes[0])).astype(dtype)
    tm = to_torch(model)
    assert isinstance(tm, torch.nn.Sequential)
    assert all(
        p.dtype == {np.float32: torch.float32, np.float64: torch.float64}[dtype] for p in tm.parameters()
    )
    with torch.no_grad():
        got = tm(torch.from_numpy(x)).numpy()
    assert_close(got, mg_out(model, x), dtype)


def test_module_layout_and_name_map(torch):
    model = mg.nn.MLP([4, 3, 2], activation="relu", output_activation="softmax", seed=1)
    tm = to_torch(model)
    kinds = [type(m).__name__ for m in tm]
    assert kinds == ["Linear", "ReLU", "Linear", "Softmax"]
    assert tm[3].dim == -1
    names = name_map(model)
    assert names == {
        "layers.0.weight": "0.weight",
        "layers.0.bias": "0.bias",
        "layers.1.weight": "2.weight",
        "layers.1.bias": "2.bias",
    }
    sd = tm.state_dict()
    for ours, theirs in names.items():
        ours_value = model.state_dict()[ours]
        if ours.endswith("weight"):  # ours (in, out), torch's (out, in)
            assert ours_value.shape == tuple(reversed(sd[theirs].shape))
            assert np.array_equal(sd[theirs].numpy(), ours_value.T)
        else:
            assert np.array_equal(sd[theirs].numpy(), ours_value)


def test_name_map_follows_missing_activations_and_needs_no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    model = mg.nn.MLP([5, 4, 3, 2], activation="tanh", output_activation=None)
    assert list(name_map(model).values()) == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    linear_only = mg.nn.MLP([5, 4, 2], activation="none", output_activation=None)
    assert list(name_map(linear_only).values()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_exported_weights_do_not_share_memory(torch):
    model = mg.nn.MLP([3, 2], seed=0)
    tm = to_torch(model)
    before = model.layers[0].weight.data.copy()
    with torch.no_grad():
        tm[0].weight.add_(1.0)
        tm[0].bias.add_(1.0)
    assert np.array_equal(model.layers[0].weight.data, before)
    assert tm[0].weight.requires_grad and tm.training


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,out_act", ACTIVATIONS + [("none", None)])
def test_round_trip_keeps_weights_exactly(torch, act, out_act, dtype):
    model = mg.nn.MLP([10, 32, 32, 3], activation=act, output_activation=out_act, dtype=dtype, seed=7)
    back = from_torch(to_torch(model))
    assert back.config() == model.config()
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), back.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        assert np.array_equal(p1.data, p2.data)


def test_round_trip_through_a_state_dict(torch):
    model = mg.nn.MLP([6, 5, 4], activation="tanh", output_activation=None, dtype=np.float64, seed=2)
    sd = to_torch(model).state_dict()
    back = from_torch(sd, activation="tanh", output_activation=None)
    assert back.config() == model.config()
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))
    same = from_torch(sd, activation="relu")  # output_activation defaults to the hidden one
    assert same.config()["output_activation"] == "relu"
    with pytest.raises(ExportError, match="activation="):
        from_torch(sd)


def test_from_torch_accepts_identity_and_a_linear_without_bias(torch):
    nn = torch.nn
    seq = nn.Sequential(
        nn.Linear(4, 3, bias=False), nn.Sigmoid(), nn.Identity(), nn.Linear(3, 2), nn.Identity()
    )
    model = from_torch(seq)
    assert model.sizes == [4, 3, 2] and model.config()["output_activation"] == "none"
    assert np.array_equal(model.layers[0].bias.data, np.zeros(3, np.float32))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        want = seq(torch.from_numpy(x)).numpy()
    assert_close(mg_out(model, x), want, np.float32)


@pytest.mark.parametrize(
    "build,needle",
    [
        (lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Conv2d(1, 1, 3)), r"layer 1 \(Conv2d\)"),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Sigmoid()),
            r"layer 1 \(BatchNorm1d\)",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.Linear(3, 2)),
            r"layer 1 \(Dropout\).*remove",
        ),
        (lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sigmoid()), r"layer 2 \(Sigmoid\) follows"),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2)),
            r"layer 2 \(Linear\) takes 5.*chain",
        ),
        (lambda nn: nn.Sequential(nn.Sigmoid(), nn.Linear(4, 3)), r"layer 0 \(Sigmoid\) comes before"),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1), nn.Linear(3, 2)),
            r"layer 1 \(Softmax\) is not at the end",
        ),
        (lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=0)), r"layer 1 \(Softmax\) uses dim=0"),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 2)),
            r"layer 3 \(Tanh\).*one activation for all hidden layers",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3), nn.Linear(3, 2)),
            r"layer 3 \(Linear\) follows Linear 2: no activation",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Linear(3, 2))),
            r"layer 1 \(Sequential\)",
        ),
        (lambda nn: nn.Sequential(nn.Linear(4, 3).half()), r"float32 or all float64"),
        (lambda nn: nn.Sequential(), r"no Linear layer"),
        (lambda nn: nn.Linear(4, 3), r"got the module Linear"),
    ],
)
def test_from_torch_names_what_it_cannot_map(torch, build, needle):
    with pytest.raises(ExportError, match=needle):
        from_torch(build(torch.nn))


def test_from_torch_state_dict_errors_name_the_entry(torch):
    nn = torch.nn
    with pytest.raises(ExportError, match=r"'1\.running_mean'"):
        from_torch(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).state_dict(), activation="relu")
    with pytest.raises(ExportError, match=r"layer 0's weight has shape \(2, 1, 3, 3\)"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 3)).state_dict(), activation="relu")
    sd = {"0.weight": torch.zeros(3, 4), "0.bias": torch.zeros(3), "2.weight": torch.zeros(2, 5)}
    with pytest.raises(ExportError, match=r"layer 2 \(Linear\) takes 5 inputs"):
        from_torch(sd, activation="relu")
    with pytest.raises(ExportError, match="not a tensor"):
        from_torch({"0.weight": [[1.0]]}, activation="relu")
    with pytest.raises(ExportError, match="for a state_dict"):
        from_torch(nn.Sequential(nn.Linear(2, 1)), activation="relu")
    with pytest.raises(ExportError, match="expected a torch.nn.Sequential"):
        from_torch(42)


def test_to_torch_rejects_models_it_cannot_map(torch):
    with pytest.raises(ExportError, match="to_onnx"):
        to_torch(mg.nn.Linear(3, 2).weight)

    class Custom(mg.nn.Module):
        def forward(self, x):
            return x

    seq = mg.nn.Sequential(mg.nn.Linear(3, 2), Custom())
    with pytest.raises(ExportError, match=r"layers\.1 is a Custom"):
        to_torch(seq)


def test_microgradnet_sequential_with_bare_activations(torch):
    seq = mg.nn.Sequential(
        mg.nn.Linear(3, 4, seed=0), mg.nn.Tanh(), mg.nn.Identity(), mg.nn.Linear(4, 2, seed=1)
    )
    tm = to_torch(seq)
    assert [type(m).__name__ for m in tm] == ["Linear", "Tanh", "Linear"]
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    with torch.no_grad():
        assert_close(tm(torch.from_numpy(x)).numpy(), mg_out(seq, x), np.float32)


def test_same_cost_and_same_gradients_in_both(torch):
    """The mapping is right for learning too: torch's gradients are ours, renamed and transposed."""
    model = mg.nn.MLP([5, 4, 3], activation="sigmoid", dtype=np.float64, seed=4)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    tm = to_torch(model)
    a = model(x)
    cost = ((a - y) ** 2).sum(1).mean()
    cost.backward()
    ta = tm(torch.from_numpy(x))
    tcost = ((ta - torch.from_numpy(y)) ** 2).sum(1).mean()
    tcost.backward()
    assert abs(tcost.item() - cost.item()) <= 1e-12
    tparams = dict(tm.named_parameters())
    for ours, theirs in name_map(model).items():
        g = dict(model.named_parameters())[ours].grad
        tg = tparams[theirs].grad.numpy()
        np.testing.assert_allclose(tg.T if ours.endswith("weight") else tg, g, rtol=1e-10, atol=1e-14)


def test_training_continues_in_torch(torch):
    """Train a few steps here, a few more in PyTorch: the cost keeps falling on the same data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5)
    y = np.eye(3, dtype=np.float32)[labels]
    model = mg.nn.MLP([4, 8, 3], activation="sigmoid", seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    mg_costs = []
    for _ in range(15):
        cost = ((model(x) - y) ** 2).sum(1).mean()
        opt.zero_grad()
        cost.backward()
        opt.step()
        mg_costs.append(cost.item())
    with mg.no_grad():
        handover = ((model(x) - y) ** 2).sum(1).mean().item()

    tm = to_torch(model)
    topt = torch.optim.SGD(tm.parameters(), lr=0.5)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    torch_costs = []
    for _ in range(15):
        tcost = ((tm(tx) - ty) ** 2).sum(1).mean()
        topt.zero_grad()
        tcost.backward()
        topt.step()
        torch_costs.append(tcost.item())
    with torch.no_grad():
        final = float(((tm(tx) - ty) ** 2).sum(1).mean())

    assert abs(torch_costs[0] - handover) <= 1e-5 * handover  # the same model on both sides
    costs = mg_costs + torch_costs + [final]
    assert all(b < a for a, b in zip(costs, costs[1:])), costs
    back = from_torch(tm)  # and back, to keep using microgradnet's tools
    with mg.no_grad():
        assert abs(((back(x) - y) ** 2).sum(1).mean().item() - final) <= 1e-5 * final


def test_checkpoint_file_round_trip(torch, tmp_path):
    model = mg.nn.MLP([6, 5, 3], activation="relu", output_activation="softmax", dtype=np.float64, seed=9)
    path = save_torch(model, tmp_path / "m.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind
    ckpt = torch.load(path, weights_only=True)  # plain torch reads it: tensors and plain values only
    assert set(ckpt) == {"state_dict", "config"}
    assert (
        ckpt["config"]["sizes"] == [6, 5, 3] and ckpt["config"]["name_map"]["layers.1.weight"] == "2.weight"
    )
    seq = load_torch(path)
    x = np.random.default_rng(1).standard_normal((4, 6))
    with torch.no_grad():
        assert_close(seq(torch.from_numpy(x)).numpy(), mg_out(model, x), np.float64)
    back = from_torch(ckpt)
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))


def test_load_torch_errors(torch, tmp_path):
    with pytest.raises(mg.ModelFileError, match="no such checkpoint"):
        load_torch(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(mg.ModelFileError, match="not a readable PyTorch checkpoint"):
        load_torch(bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(mg.ModelFileError, match="not a microgradnet checkpoint"):
        load_torch(other)
    with pytest.raises(mg.ModelFileError, match="does not exist"):
        save_torch(mg.nn.MLP([2, 1]), tmp_path / "nowhere" / "m.pt")


@pytest.mark.parametrize(
    "call",
    [
        lambda: to_torch(mg.nn.MLP([2, 1])),
        lambda: from_torch({}),
        lambda: load_torch("x.pt"),
        lambda: save_torch(mg.nn.MLP([2, 1]), "x.pt"),
    ],
)
def test_missing_torch_is_a_clear_import_error(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "microgradnet\[torch\]"'):
        call()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_not_exported(torch, tmp_path, bad):
    model = mg.nn.MLP([4, 3, 2], seed=0)
    model.layers[0].bias.data[2] = bad
    with pytest.raises(ExportError, match=r"layers.0.bias holds 1 (NaN|infinite) value \(of 3\)"):
        to_torch(model)
    with pytest.raises(ExportError, match="layers.0.bias"):
        save_torch(model, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_checkpoint_write_is_an_os_error_naming_the_file(torch, tmp_path):
    """torch.save writing to a full disk raises torch's RuntimeError ("unexpected pos");
    save_torch must give the OSError instead. RLIMIT_FSIZE fails the write for real."""
    import subprocess

    code = (
        "import resource, signal, sys\n"
        "import microgradnet as mg\n"
        "from microgradnet.export import save_torch\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    save_torch(mg.nn.MLP([64, 100, 10], seed=0), sys.argv[1])\n"
        "except OSError as e:\n"
        "    print(type(e).__name__, e.errno, e.filename)\n"
    )
    target = tmp_path / "m.pt"
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True)
    assert proc.stdout.split() == ["OSError", "27", str(target)], proc.stdout + proc.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []
