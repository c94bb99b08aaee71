"""The network learns: the embedded digits, the 3Blue1Brown network on real MNIST digits,
and the promises of evaluate/fit (history, seeds, errors)."""

import numpy as np
import pytest
from conftest import require_mnist

import microgradnet as mg


def test_issue_loop_on_embedded_digits_reaches_95_percent():
    train, test = mg.datasets.load_digits()
    model = mg.nn.MLP([64, 16, 16, 10], activation="sigmoid", seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=3.0)
    for epoch in range(30):
        for xb, yb in mg.data.batches(train, batch_size=10, shuffle=True, seed=epoch):
            cost = mg.squared_error(model(xb), yb)
            opt.zero_grad()
            cost.backward()
            opt.step()
    result = mg.evaluate(model, test)
    assert result.accuracy >= 0.95
    acc, c = result
    assert acc == result.accuracy and 0 <= c < 0.2


@pytest.mark.slow
def test_3blue1brown_network_on_mnist_digits_scores_87_percent():
    """784-16-16-10 sigmoid, squared error, SGD with batch 10: 8,000 training digits of the
    real MNIST test set, scored on the other 2,000."""
    root = require_mnist()
    digits = mg.datasets.load_mnist(root, split="test", download=False)
    train, test = digits.split(8000)
    assert len(train) == 8000 and len(test) == 2000
    model = mg.nn.MLP([784, 16, 16, 10], activation="sigmoid", seed=0)
    assert model.num_parameters() == 13_002
    history = mg.fit(model, train, epochs=10, lr=3.0, batch_size=10, test=test, seed=0, progress=False)
    final = mg.evaluate(model, test)
    assert final.accuracy >= 0.87, history.test_accuracy
    assert history.test_accuracy[-1] == pytest.approx(final.accuracy)
    assert history.cost[-1] < history.cost[0]


def test_fit_is_reproducible_with_a_seed_and_records_history():
    train, test = mg.datasets.load_digits()
    runs = []
    for _ in range(2):
        model = mg.nn.MLP([64, 12, 10], seed=3)
        h = mg.fit(model, train, epochs=3, lr=2.0, batch_size=20, test=test, seed=7, progress=False)
        runs.append((h, model.state_dict()))
    (h1, s1), (h2, s2) = runs
    assert h1.cost == h2.cost and h1.test_accuracy == h2.test_accuracy
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k])
    assert len(h1.cost) == len(h1.test_accuracy) == len(h1.seconds) == 3
    assert len(h1.step_cost) == 3 * int(np.ceil(len(train) / 20))
    model = mg.nn.MLP([64, 12, 10], seed=3)
    h3 = mg.fit(model, train, epochs=3, lr=2.0, batch_size=20, test=test, seed=8, progress=False)
    assert h3.cost != h1.cost


def test_fit_with_cross_entropy_and_adam_learns():
    train, test = mg.datasets.load_digits()
    model = mg.nn.MLP([64, 32, 10], activation="relu", output_activation=None, seed=0)
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    mg.fit(model, train, epochs=5, batch_size=32, loss="cross_entropy", optimizer=opt, progress=False)
    assert mg.evaluate(model, test, loss="cross_entropy").accuracy >= 0.9


def test_fit_stops_with_a_clear_error_when_the_cost_blows_up():
    train, _ = mg.datasets.load_digits()
    model = mg.nn.MLP([64, 10], activation=None, seed=0)  # linear: large steps diverge
    # The outputs grow until their sum of squares overflows float32: numpy warns where that
    # happens (the squared-error op), then fit stops with an error that names the likely cause.
    with (
        pytest.warns(RuntimeWarning, match="overflow"),
        pytest.raises(mg.NumericalError, match="learning rate"),
    ):
        mg.fit(model, train, epochs=3, lr=50.0, batch_size=10, progress=False)


def test_evaluate_counts_correct_answers_exactly():
    class Fixed(mg.nn.Module):
        def forward(self, x):
            out = np.zeros((len(x), 3), dtype=np.float32)
            out[:, 1] = 1
            return mg.Tensor(out)

    x = np.zeros((4, 2), dtype=np.float32)
    y = np.array([1, 1, 0, 2])
    ev = mg.evaluate(Fixed(), (x, y))
    assert ev.accuracy == 0.5 and ev.n == 4
    # squared error of the one-hot rows: 0, 0, 2, 2 -> mean 1
    assert ev.cost == pytest.approx(1.0)
    with pytest.raises(ValueError, match="loss"):
        mg.evaluate(Fixed(), (x, y), loss="hinge")


def test_history_and_evaluation_print_short_summaries():
    train, test = mg.datasets.load_digits()
    model = mg.nn.MLP([64, 16, 10], seed=0)
    history = mg.fit(model, train, epochs=4, lr=3.0, batch_size=10, test=test, progress=False)
    text = repr(history)
    assert text == str(history) and len(text) < 300 and text.count("\n") == 1, text
    assert text.startswith("History: 4 epochs in ")
    assert f"final cost {history.cost[-1]:.4f}" in text
    assert f"accuracy {history.accuracy[-1]:.2%}" in text
    assert f"test accuracy {history.test_accuracy[-1]:.2%}" in text
    assert f".step_cost ({len(history.step_cost):,} values)" in text
    assert len(history.step_cost) == 4 * 144 and len(history.cost) == 4  # the lists stay whole

    best = mg.training.History(cost=[0.3, 0.2, 0.25], test_accuracy=[0.8, 0.9, 0.85], seconds=[1, 1, 1])
    assert "test accuracy 85.00%, best 90.00% at epoch 2" in str(best)
    assert str(mg.training.History()) == "History: no epochs yet"
    assert best.epoch_line(1, 3) == "epoch 2/3  cost 0.2000  test accuracy 90.00%  (1.00 s)"

    ev = mg.evaluate(model, test)
    assert (
        repr(ev)
        == str(ev)
        == f"accuracy {ev.accuracy:.2%} ({round(ev.accuracy * 360)}/360), cost {ev.cost:.4f}"
    )


def test_fit_accuracy_is_the_running_accuracy_of_the_training_steps(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    # by hand: the loop fit runs, counting each batch with the output its step computed
    model = mg.nn.MLP([6, 8, 4], seed=1)
    opt = mg.optim.SGD(model.parameters(), lr=1.0)
    right = 0
    for xb, yb in mg.data.batches((x, y), 7, shuffle=True, seed=0):
        out = model(xb)
        right += int((out.data.argmax(axis=1) == yb).sum())
        cost = mg.squared_error(out, yb)
        opt.zero_grad()
        cost.backward()
        opt.step()
    # fit never runs the model over the training data a second time
    monkeypatch.setattr(mg.training, "evaluate", lambda *a, **k: pytest.fail("a second pass"))
    h = mg.fit(mg.nn.MLP([6, 8, 4], seed=1), (x, y), epochs=1, lr=1.0, batch_size=7, progress=False)
    assert h.accuracy == [right / 60]
