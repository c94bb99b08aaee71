"""Choosing numpy's BLAS thread count for the shapes a network trains on."""

import numpy as np
import pytest

import microgradnet as mg
from microgradnet import threads

F32 = np.dtype(np.float32)


@pytest.fixture
def fresh(monkeypatch):
    """Thread settings as on a fresh start, restored afterwards."""
    before = mg.get_num_threads()
    monkeypatch.setattr(threads, "_state", dict(threads._state, mode=None, fixed=None, applied=None))
    monkeypatch.setattr(threads, "_CHOICES", {})
    monkeypatch.setattr(threads, "_LAST", {"key": None, "count": None})
    for var in (threads.ENV, *threads._BLAS_ENV):
        monkeypatch.delenv(var, raising=False)
    yield
    threads._state["applied"] = None
    threads._apply(before)


def test_set_num_threads_fixes_the_count_and_none_chooses_again(fresh):
    mg.set_num_threads(1)
    assert mg.get_num_threads() == 1
    assert threads.choose_for(((100, 784, 16, F32),)) == 1  # the user's count, not measured
    assert threads._CHOICES == {}
    mg.set_num_threads(None)
    assert threads._mode() == "auto"
    with pytest.raises(ValueError, match="positive whole number"):
        mg.set_num_threads(0)


def test_the_choice_is_measured_once_per_set_of_shapes(fresh, monkeypatch):
    calls = []

    def measure(shapes):
        calls.append(shapes)
        return 1

    monkeypatch.setattr(threads, "_measure", measure)
    big = ((1000, 784, 512, F32), (1000, 512, 10, F32))
    small = ((10, 784, 16, F32),)
    for _ in range(3):
        assert threads.choose_for(big) == 1
        assert threads.choose_for(small) == 1
    assert calls == [big, small]
    assert mg.get_num_threads() == 1


def test_tiny_products_take_one_thread_without_measuring(fresh):
    assert threads._measure(((10, 64, 16, F32), (10, 16, 10, F32))) == 1


def test_the_environment_decides(fresh, monkeypatch):
    monkeypatch.setenv(threads.ENV, "1")
    assert threads.choose_for(((1000, 784, 512, F32),)) == 1
    assert threads._state["mode"] == "fixed"
    monkeypatch.setattr(threads, "_state", dict(threads._state, mode=None))
    monkeypatch.setenv(threads.ENV, "many")
    with pytest.raises(ValueError, match="MICROGRADNET_NUM_THREADS"):
        threads.choose_for(((1000, 784, 512, F32),))
    monkeypatch.setattr(threads, "_state", dict(threads._state, mode=None))
    monkeypatch.delenv(threads.ENV)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.choose_for(((1000, 784, 512, F32),)) is None  # the user's BLAS setting stays


def test_backward_and_fit_choose_for_the_products_of_their_graph(fresh, monkeypatch):
    seen = []
    monkeypatch.setattr(threads, "choose_for", lambda shapes: seen.append(shapes))
    model = mg.nn.MLP([12, 8, 4], seed=0)
    x = np.random.default_rng(0).random((5, 12), dtype=np.float32)
    mg.squared_error(model(x), np.arange(5) % 4).backward()
    assert seen == [((5, 12, 8, F32), (5, 8, 4, F32))]
    mg.fit(model, (x, np.arange(5) % 4), epochs=1, batch_size=5, progress=False)
    assert seen[-1] == ((5, 12, 8, F32), (5, 8, 4, F32))
