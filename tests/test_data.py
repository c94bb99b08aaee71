"""Tests for microgradnet.data: Dataset, batches, one_hot."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microgradnet.data import Dataset, batches, one_hot
from microgradnet.errors import DataError, DTypeError, MicrogradnetError, ShapeError


def make_ds(n=10, features=4, classes=3, name="toy"):
    x = np.arange(n * features, dtype=np.float64).reshape(n, features) / (n * features)
    y = np.arange(n) % classes
    return Dataset(x, y, classes=[f"c{k}" for k in range(classes)], name=name)


# ----------------------------------------------------------------------------- Dataset


def test_dataset_arrays_and_metadata():
    ds = make_ds()
    assert ds.x.dtype == np.float32 and ds.x.shape == (10, 4)
    assert ds.y.dtype == np.int64 and ds.y.shape == (10,)
    assert ds.classes == ["c0", "c1", "c2"] and ds.num_classes == 3
    assert ds.name == "toy" and ds.image_shape is None
    assert len(ds) == 10


def test_dataset_flattens_images_and_infers_image_shape():
    x = np.zeros((5, 3, 2), dtype=np.uint8)
    ds = Dataset(x, [0, 1, 2, 3, 4])
    assert ds.x.shape == (5, 6) and ds.image_shape == (3, 2)
    assert ds.classes == ["0", "1", "2", "3", "4"]


def test_dataset_explicit_image_shape_must_match_features():
    Dataset(np.zeros((2, 64)), [0, 1], image_shape=(8, 8))
    with pytest.raises(ShapeError, match="image_shape"):
        Dataset(np.zeros((2, 64)), [0, 1], image_shape=(7, 8))


def test_dataset_getitem_int_returns_pair():
    ds = make_ds()
    x3, y3 = ds[3]
    assert x3.shape == (4,) and isinstance(y3, int) and y3 == 0
    np.testing.assert_array_equal(x3, ds.x[3])
    assert ds[-1][1] == 9 % 3
    assert ds[np.int64(2)][1] == 2


def test_dataset_slices_and_index_arrays_keep_metadata():
    ds = make_ds()
    for sub, expect in [
        (ds[2:5], [2, 3, 4]),
        (ds[np.array([7, 1])], [7, 1]),
        (ds[[0, 0, 9]], [0, 0, 9]),
        (ds[ds.y == 1], [1, 4, 7]),
    ]:
        assert isinstance(sub, Dataset)
        np.testing.assert_array_equal(sub.x, ds.x[expect])
        np.testing.assert_array_equal(sub.y, ds.y[expect])
        assert (sub.name, sub.classes, sub.image_shape) == (ds.name, ds.classes, ds.image_shape)
    assert len(ds[[]]) == 0


def test_dataset_bad_index():
    ds = make_ds()
    with pytest.raises(IndexError):
        ds[10]
    with pytest.raises(DTypeError):
        ds[np.array([0.5])]
    with pytest.raises(ShapeError):
        ds[np.array([True, False])]


def test_dataset_iterates_pairs():
    ds = make_ds(n=4)
    assert [y for _, y in ds] == [0, 1, 2, 0]


def test_dataset_split():
    ds = make_ds()
    a, b = ds.split(7)
    assert (len(a), len(b)) == (7, 3)
    np.testing.assert_array_equal(np.concatenate([a.y, b.y]), ds.y)
    a, b = ds.split(0.2)
    assert (len(a), len(b)) == (2, 8)
    assert len(ds.split(0)[0]) == 0 and len(ds.split(10)[1]) == 0
    with pytest.raises(ValueError, match="outside 0..10"):
        ds.split(11)
    with pytest.raises(DTypeError):
        ds.split("3")


def test_dataset_shuffled_is_a_seeded_permutation():
    ds = make_ds(n=50)
    a, b, c = ds.shuffled(1), ds.shuffled(1), ds.shuffled(2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.y, c.y) or not np.array_equal(a.x, c.x)
    # Same rows, rows still paired with their labels.
    assert sorted(map(tuple, a.x.tolist())) == sorted(map(tuple, ds.x.tolist()))
    for i in range(len(a)):
        j = int(np.flatnonzero((ds.x == a.x[i]).all(axis=1))[0])
        assert ds.y[j] == a.y[i]
    assert a.name == ds.name and a.classes == ds.classes


def test_dataset_repr():
    ds = Dataset(np.zeros((3, 4)), [0, 1, 1], image_shape=(2, 2), name="tiny")
    text = repr(ds)
    assert "tiny" in text and "n=3" in text and "2x2" in text and "(3, 4)" in text


def test_dataset_errors():
    with pytest.raises(ShapeError, match="3 samples but y has 2"):
        Dataset(np.zeros((3, 2)), [0, 1])
    with pytest.raises(DTypeError, match="integers"):
        Dataset(np.zeros((2, 2)), [0.0, 1.0])
    with pytest.raises(ShapeError, match="argmax"):
        Dataset(np.zeros((2, 2)), np.eye(2, dtype=int))
    with pytest.raises(DataError, match="label 3 is outside 0..2"):
        Dataset(np.zeros((2, 2)), [0, 3], classes=["a", "b", "c"])
    with pytest.raises(DataError, match="label -1"):
        Dataset(np.zeros((2, 2)), [0, -1], classes=["a", "b"])
    with pytest.raises(DTypeError):
        Dataset(np.zeros((2, 2)), [0, 1], classes="ab")
    with pytest.raises(ShapeError):
        Dataset(np.float32(1.0), [0])
    # All of them are friendly microgradnet errors as well as built-in ones.
    with pytest.raises(MicrogradnetError):
        Dataset(np.zeros((3, 2)), [0, 1])


# ----------------------------------------------------------------------------- batches


def test_batches_in_order_keeps_last_partial_batch():
    x = np.arange(10).reshape(10, 1)
    y = np.arange(10)
    got = list(batches((x, y), batch_size=4))
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in got]), y)
    for xb, yb in got:
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_batches_len_and_drop_last():
    ds = make_ds(n=10)
    assert len(batches(ds, batch_size=4)) == 3
    assert len(batches(ds, batch_size=5)) == 2
    assert len(batches(ds, batch_size=100)) == 1
    b = batches(ds, batch_size=4, drop_last=True)
    assert len(b) == 2
    assert [len(yb) for _, yb in b] == [4, 4]
    assert len(batches(ds, batch_size=11, drop_last=True)) == 0
    assert list(batches(ds, batch_size=11, drop_last=True)) == []


def test_batches_default_size_and_dataset_input():
    ds = make_ds(n=70)
    b = batches(ds)
    assert len(b) == 3
    xb, yb = next(iter(b))
    assert xb.shape == (32, 4) and xb.dtype == np.float32 and yb.dtype == np.int64


def test_batches_shuffle_is_deterministic_by_seed():
    ds = make_ds(n=40)

    def order(seed):
        return np.concatenate([yb for _, yb in batches((ds.x, np.arange(40)), 8, shuffle=True, seed=seed)])

    np.testing.assert_array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    assert not np.array_equal(order(3), np.arange(40))


def test_batches_reused_object_reshuffles_each_epoch_reproducibly():
    data = (np.arange(30), np.arange(30))
    b1 = batches(data, 7, shuffle=True, seed=0)
    b2 = batches(data, 7, shuffle=True, seed=0)
    e1 = [np.concatenate([yb for _, yb in b1]) for _ in range(2)]
    e2 = [np.concatenate([yb for _, yb in b2]) for _ in range(2)]
    np.testing.assert_array_equal(e1[0], e2[0])
    np.testing.assert_array_equal(e1[1], e2[1])
    assert not np.array_equal(e1[0], e1[1])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60), batch_size=st.integers(1, 70), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1)
)
def test_batches_cover_every_sample_exactly_once(n, batch_size, shuffle, seed):
    x = np.arange(n, dtype=np.float32).reshape(n, 1) * 2
    y = np.arange(n)
    b = batches((x, y), batch_size=batch_size, shuffle=shuffle, seed=seed)
    got = list(b)
    assert len(got) == len(b) == -(-n // batch_size)
    assert all(len(yb) == batch_size for _, yb in got[:-1])
    assert 1 <= len(got[-1][1]) <= batch_size
    seen = np.concatenate([yb for _, yb in got])
    np.testing.assert_array_equal(np.sort(seen), y)
    for xb, yb in got:
        np.testing.assert_array_equal(xb[:, 0], yb * 2)  # pairs stay together


def test_batches_accepts_one_hot_targets():
    x = np.zeros((5, 2))
    y = one_hot([0, 1, 2, 1, 0])
    ((xb, yb),) = list(batches((x, y), batch_size=5))
    assert yb.shape == (5, 3)


@pytest.mark.parametrize("size", [0, -1])
def test_batches_rejects_non_positive_batch_size(size):
    with pytest.raises(ValueError, match="positive int"):
        batches(make_ds(), batch_size=size)


@pytest.mark.parametrize("size", [2.0, "4", None, True])
def test_batches_rejects_non_int_batch_size(size):
    with pytest.raises(TypeError, match="positive int"):
        batches(make_ds(), batch_size=size)


def test_batches_length_mismatch_names_both_lengths():
    with pytest.raises(ShapeError, match="x has 5 samples but y has 4"):
        batches((np.zeros((5, 2)), np.zeros(4)))


def test_batches_empty_data():
    with pytest.raises(ValueError, match="empty"):
        batches((np.zeros((0, 3)), np.zeros(0)))


def test_batches_bad_data_type():
    with pytest.raises(TypeError, match="Dataset or a pair"):
        batches(np.zeros((4, 2)))


# ----------------------------------------------------------------------------- one_hot


def test_one_hot_basic():
    out = one_hot([2, 0, 1, 2])
    assert out.shape == (4, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[2, 0, 1, 2]])


def test_one_hot_num_classes_and_dtype():
    out = one_hot(np.array([1, 0], dtype=np.uint8), num_classes=5, dtype=np.int64)
    assert out.shape == (2, 5) and out.dtype == np.int64
    assert out.sum() == 2 and out[0, 1] == 1 and out[1, 0] == 1
    assert one_hot([], num_classes=4).shape == (0, 4)


@given(st.lists(st.integers(0, 9), min_size=1, max_size=50))
def test_one_hot_round_trips_through_argmax(labels):
    out = one_hot(labels, num_classes=10)
    np.testing.assert_array_equal(out.argmax(axis=1), labels)
    np.testing.assert_array_equal(out.sum(axis=1), 1)


def test_one_hot_errors():
    with pytest.raises(DataError, match="label 3 .*outside 0..2"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(DataError, match="label -1"):
        one_hot([0, -1])
    with pytest.raises(DTypeError, match="integers"):
        one_hot([0.0, 1.5])
    with pytest.raises(DTypeError):
        one_hot([True, False])
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([0, 1], num_classes=0)
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([])
