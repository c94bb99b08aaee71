"""The lab's engine side (LabSession, the inspection helpers) and its web app, without a browser:
training moves the real model, edits are exact and undoable, every request needs the token."""

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.lab import inspect as look
from microgradnet.lab.session import LabError, LabSession


@pytest.fixture
def lab(tmp_path):
    s = LabSession(save_dir=tmp_path / "saved")
    yield s
    s.close()


def forward_by_hand(model, x):
    with mg.no_grad():
        return model(np.asarray(x, dtype=np.float32)[None, :]).data[0]


def test_steps_train_the_real_model(lab):
    before = [p.data.copy() for p in lab.model.parameters()]
    lab.control("step")
    assert lab.wait_idle()
    st = lab.state()
    assert st["step"] == 1 and st["mode"] == "paused" and np.isfinite(st["cost"])
    assert any(not np.array_equal(b, p.data) for b, p in zip(before, lab.model.parameters()))
    # One step of the lab is one step of SGD on the epoch's first mini-batch, as fit would take.
    model = mg.nn.MLP([64, 16, 16, 10], seed=0)
    model.load_state_dict(dict(zip([n for n, _ in model.named_parameters()], before)))
    order = np.random.default_rng(0).permutation(len(lab.train))[:10]
    opt = mg.optim.SGD(model.parameters(), lr=3.0)
    cost = mg.squared_error(model(lab.train.x[order]), lab.train.y[order])
    opt.zero_grad()
    cost.backward()
    opt.step()
    assert st["cost"] == pytest.approx(float(cost.data), rel=1e-6)
    for p, q in zip(model.parameters(), lab.model.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-5, atol=1e-6)


def test_an_epoch_measures_accuracy_and_the_cost_falls(lab):
    for _ in range(3):
        lab.control("epoch")
        assert lab.wait_idle(60)
    st = lab.state()
    assert st["epoch"] == 3 and st["step"] == 3 * st["batches_per_epoch"]
    assert len(st["epoch_cost"]) == len(st["test_accuracy"]) == len(st["train_accuracy"]) == 3
    assert st["epoch_cost"][-1] < st["epoch_cost"][0]
    assert st["test_accuracy"][-1] == pytest.approx(mg.evaluate(lab.model, lab.test).accuracy)
    assert st["test_accuracy"][-1] > 0.5


def test_play_pause_and_knobs_while_training(lab):
    lab.control("play")
    lab.control("set", lr=0.5, batch_size=32)  # while it runs
    deadline = __import__("time").monotonic() + 30
    while lab.state()["step"] < 50 and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    lab.control("pause")
    assert lab.wait_idle()
    st = lab.state()
    assert st["settings"]["lr"] == 0.5 and lab.opt.lr == 0.5 and st["settings"]["batch_size"] == 32
    frozen = [p.data.copy() for p in lab.model.parameters()]
    __import__("time").sleep(0.2)
    assert lab.state()["step"] == st["step"]  # paused means paused
    assert all(np.array_equal(a, p.data) for a, p in zip(frozen, lab.model.parameters()))


def test_switch_off_is_the_same_edit_as_by_hand_and_undo_restores_it(lab):
    lab.control("epoch")
    lab.wait_idle(60)
    x = lab.test.x[3]
    before = [p.data.copy() for p in lab.model.parameters()]
    res = lab.poke(1, 4, "switch_off")
    assert res["test_accuracy"] == pytest.approx(mg.evaluate(lab.model, lab.test).accuracy)
    by_hand = mg.nn.MLP([64, 16, 16, 10], seed=0)
    by_hand.load_state_dict(dict(zip([n for n, _ in by_hand.named_parameters()], before)))
    by_hand.layers[1].weight.data[4, :] = 0  # the next layer stops hearing neuron 4 of layer 1
    np.testing.assert_array_equal(
        lab.forward(x.tolist())["output"], forward_by_hand(by_hand, x).astype(float)
    )
    lab.poke(2, 0, "shift_bias", 2.5)
    by_hand.layers[1].bias.data[0] += np.float32(2.5)
    lab.poke(2, 1, "scale_weights", 0.5)
    by_hand.layers[1].weight.data[:, 1] *= np.float32(0.5)
    np.testing.assert_array_equal(
        lab.forward(x.tolist())["output"], forward_by_hand(by_hand, x).astype(float)
    )
    for _ in range(3):
        lab.undo()
    assert all(np.array_equal(b, p.data) for b, p in zip(before, lab.model.parameters()))
    with pytest.raises(LabError, match="nothing to undo"):
        lab.undo()


def test_neuron_reports_its_weighted_sum_bias_and_output(lab):
    x = lab.test.x[0]
    n = lab.neuron(1, 2, x.tolist())
    w, b = lab.model.layers[0].weight.data[:, 2], lab.model.layers[0].bias.data[2]
    assert n["bias"] == pytest.approx(float(b))
    assert n["weighted_sum"] == pytest.approx(float(x @ w), rel=1e-5, abs=1e-6)
    assert n["output"] == pytest.approx(1 / (1 + np.exp(-(float(x @ w) + float(b)))), rel=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.poke(9, 0, "shift_bias", 1), "layer must be between 1 and 3"),
        (lambda s: s.poke(1, 16, "shift_bias", 1), "neuron index in layer 1 must be between 0 and 15"),
        (lambda s: s.poke(3, 0, "switch_off"), "output neuron"),
        (lambda s: s.poke(1, 0, "explode"), "unknown edit"),
        (lambda s: s.poke(1, 0, "shift_bias", float("nan")), "bias shift"),
        (lambda s: s.forward([0.0] * 63), "64 numbers"),
        (lambda s: s.forward("abc"), "64 numbers"),
        (lambda s: s.build(activation="softplus"), "unknown activation"),
        (lambda s: s.build(hidden=[0]), "hidden layer size"),
        (lambda s: s.build(lr=-1), "learning rate"),
        (lambda s: s.build(dataset="cifar"), "unknown dataset"),
        (lambda s: s.control("jump"), "unknown action"),
        (lambda s: s.control("set", batch_size=0), "batch size"),
        (lambda s: s.images([10**6]), "image index"),
        (lambda s: s.embedding(1, "umap"), "choose pca or tsne"),
    ],
)
def test_bad_requests_get_clear_errors(lab, call, message):
    with pytest.raises(LabError, match=message):
        call(lab)


def test_save_goes_to_the_fixed_folder_and_loads_back(lab, tmp_path):
    lab.poke(1, 0, "shift_bias", 1.0)
    name = lab.save()
    path = tmp_path / "saved" / name
    assert path.is_file() and "/" not in name
    back = mg.load(path)
    for p, q in zip(back.parameters(), lab.model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert lab.save() != name  # a second save never overwrites the first


def test_explain_is_the_stepper_page_of_the_current_batch(lab):
    lab.control("step")
    lab.wait_idle()
    page = lab.explain_html()
    assert page.startswith("<!DOCTYPE html>") and 'id="mg-data"' in page
    assert "Content-Security-Policy" in page


def test_confusion_matrix_counts_every_test_image(lab):
    lab.control("epoch")
    lab.wait_idle(60)
    c = lab.confusion()
    m = np.array(c["matrix"])
    pred = forward_all(lab.model, lab.test.x).argmax(axis=1)
    assert m.sum() == len(lab.test)
    for i in range(10):
        for j in range(10):
            assert m[i, j] == np.sum((lab.test.y == i) & (pred == j))
    for key, ids in c["wrong"].items():
        i, j = map(int, key.split(","))
        assert i != j and all(lab.test.y[k] == i and pred[k] == j for k in ids)
    assert c["accuracy"] == pytest.approx(np.trace(m) / m.sum())


def forward_all(model, x):
    with mg.no_grad():
        return model(x).data


def test_pca_finds_the_direction_of_most_variance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 5)) * np.array([10.0, 3.0, 1.0, 0.5, 0.1])
    pts = look.pca_2d(a)
    assert np.var(pts[:, 0]) == pytest.approx(np.var(a[:, 0]), rel=0.05)
    assert np.var(pts[:, 0]) > np.var(pts[:, 1]) > 0
    e = look.embed(a, np.arange(400) % 10)
    p = np.array(e["points"])
    assert p.min() >= 0 and p.max() <= 1 and len(e["labels"]) == 400


def test_tsne_map_when_scikit_learn_is_there():
    require("sklearn")
    rng = np.random.default_rng(0)
    a = np.vstack([rng.normal(0, 1, (40, 6)), rng.normal(8, 1, (40, 6))])
    p = np.array(look.embed(a, np.repeat([0, 1], 40), "tsne")["points"])
    # Two clusters far apart stay apart in the map.
    assert np.linalg.norm(p[:40].mean(0) - p[40:].mean(0)) > 0.3


def hint_args(**kw):
    model = mg.nn.MLP([4, 3, 2], activation=kw.pop("activation", "sigmoid"), seed=0)
    base = dict(
        model=model,
        settings={"lr": 3.0, "activation": model.activation_name, "loss": "mse"},
        step_costs=[0.5] * 400,
        epoch_cost=[0.5, 0.4],
        train_accuracy=[0.8],
        test_accuracy=[0.79],
        probe=np.random.default_rng(0).random((20, 4)).astype(np.float32),
    )
    base.update(kw)
    return base


def test_no_hints_when_training_goes_well():
    assert look.hints(**hint_args()) == []


def test_hint_for_a_diverging_cost():
    (h,) = look.hints(**hint_args(step_costs=[0.3] * 100 + [2.0] * 100))
    assert "Lower the learning rate (now 3)" in h


def test_hint_for_saturated_sigmoids():
    (h,) = look.hints(**hint_args(step_costs=[0.9] * 400))
    assert "saturated" in h and "learning rate" in h


def test_hint_for_a_dead_relu_layer():
    args = hint_args(activation="relu")
    args["model"].layers[0].bias.data[:] = -100  # no input can wake them
    (h,) = look.hints(**args)
    assert "dead" in h and "layer 1" in h


def test_hint_for_overfitting():
    (h,) = look.hints(**hint_args(train_accuracy=[0.99], test_accuracy=[0.80]))
    assert "memorising" in h and "99.0%" in h


def test_a_huge_learning_rate_ends_in_a_hint(lab):
    lab.build(lr=100.0, activation="relu", loss="cross_entropy")
    for _ in range(2):
        lab.control("epoch")
        lab.wait_idle(60)
    st = lab.state()
    assert st["hints"] or st["error"], st


# ----- the web app (in-process, through Starlette's test client) -----------------------------------


@pytest.fixture
def client(lab):
    require("starlette")
    require("httpx2")
    from starlette.testclient import TestClient

    from microgradnet.lab.server import allowed_hosts, create_app

    app = create_app(lab, "s3cret", allowed_hosts("127.0.0.1", 8765))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        yield c


ROUTES = [
    ("GET", "/"),
    ("GET", "/assets/lab.js"),
    ("GET", "/api/info"),
    ("GET", "/api/state"),
    ("GET", "/api/stream"),
    ("GET", "/api/weights"),
    ("GET", "/api/confusion"),
    ("GET", "/api/explain"),
    ("POST", "/api/build"),
    ("POST", "/api/control"),
    ("POST", "/api/poke"),
    ("POST", "/api/save"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_request_needs_the_token(client, lab, method, path):
    for headers in ({}, {"Authorization": "token wrong"}, {"Cookie": "microgradnet-lab-8765=wrong"}):
        r = client.request(method, path, headers=headers, json={"action": "play"})
        assert r.status_code == 403 and "token" in r.text
    r = client.request(method, path + "?token=s3cret-not", json={})
    assert r.status_code == 403
    assert lab.state()["mode"] == "paused" and not list(lab.save_dir.glob("*"))


def test_the_token_in_the_url_becomes_a_cookie(client):
    r = client.get("/?token=s3cret")
    assert r.status_code == 200 and "microgradnet lab" in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    assert client.get("/api/state").status_code == 200  # the cookie now carries the token


def test_host_and_origin_are_checked_against_dns_rebinding(client):
    auth = {"Authorization": "token s3cret"}
    assert client.get("/api/state", headers=auth).status_code == 200
    assert client.get("/api/state", headers={**auth, "Host": "localhost:8765"}).status_code == 200
    r = client.get("/api/state", headers={**auth, "Host": "evil.example:8765"})
    assert r.status_code == 403 and "Host" in r.text
    r = client.post(
        "/api/control", headers={**auth, "Origin": "http://evil.example"}, json={"action": "play"}
    )
    assert r.status_code == 403 and "origin" in r.text
    r = client.post(
        "/api/control", headers={**auth, "Origin": "http://127.0.0.1:8765"}, json={"action": "pause"}
    )
    assert r.status_code == 200


def test_bad_requests_are_a_clear_400(client):
    auth = {"Authorization": "token s3cret"}
    cases = [
        ("/api/control", b"not json", "must be JSON"),
        ("/api/control", b"[1, 2]", "JSON object"),
        ("/api/control", b'{"action": "play", "path": "/etc/passwd"}', "unknown field(s) path"),
        ("/api/poke", b'{"layer": 1}', "missing field(s) index, action"),
        ("/api/build", b'{"hidden": "lots"}', "list of layer sizes"),
        ("/api/forward", b'{"input": [1, 2]}', "64 numbers"),
    ]
    for path, body, message in cases:
        r = client.post(path, headers=auth, content=body)
        assert r.status_code == 400, (path, r.text)
        assert message in r.json()["error"]
    assert client.get("/api/state?since=x", headers=auth).status_code == 400
    assert client.get("/assets/../session.py", headers=auth).status_code == 404
    big = b'{"input": [' + b"0," * 600_000 + b"0]}"
    assert client.post("/api/forward", headers=auth, content=big).status_code == 400


def test_the_api_drives_the_session(client, lab):
    auth = {"Authorization": "token s3cret"}
    st = client.post("/api/build", headers=auth, json={"hidden": [8], "lr": 1.0, "seed": 3}).json()
    assert st["settings"]["sizes"] == [64, 8, 10] and st["step"] == 0
    client.post("/api/control", headers=auth, json={"action": "epoch"})
    assert lab.wait_idle(60)
    st = client.get("/api/state", headers=auth).json()
    assert st["epoch"] == 1 and len(st["step_costs"]) == st["step"]
    x = lab.test.x[0].tolist()
    out = client.post("/api/forward", headers=auth, json={"input": x}).json()
    np.testing.assert_allclose(out["output"], forward_by_hand(lab.model, lab.test.x[0]), rtol=1e-6)
    saved = client.post("/api/save", headers=auth, json={}).json()["saved"]
    assert (lab.save_dir / saved).is_file()
    w = client.get("/api/weights", headers=auth).json()
    assert w["image_shape"] == [8, 8] and len(w["images"]) == 8 and len(w["histograms"]) == 2


# ----- the command line ----------------------------------------------------------------------------


def test_cli_lab_help_names_its_flags(capsys):
    from microgradnet.cli import main

    with pytest.raises(SystemExit) as e:
        main(["lab", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--port", "--no-browser", "--host", "--data-dir", "--save-dir"):
        assert flag in out


def test_cli_lab_without_its_extra_says_how_to_get_it(monkeypatch, capsys):
    from microgradnet.cli import main

    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)  # as if not installed
    assert main(["lab", "--no-browser", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "microgradnet[lab]"' in err and "Traceback" not in err


def test_cli_lab_refuses_a_port_out_of_range(capsys):
    from microgradnet.cli import main

    assert main(["lab", "--no-browser", "--port", "70000"]) == 1
    assert "--port must be at most 65535" in capsys.readouterr().err
