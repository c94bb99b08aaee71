"""Hostile files: each is read in a child process under a memory cap (``RLIMIT_AS``), so a
loader that would inflate, allocate or read without bound fails here with MemoryError or a
timeout instead of swapping the machine. Each must be refused quickly with a clear error
naming the file, having used little memory.

The bombs are made in milliseconds without ever holding their contents: deflate output for
16 MiB of zeros, cut at a full flush, is a self-contained piece that can be repeated.
"""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import microgradnet as mg

MEMORY_CAP = 512 << 20  # bytes of address space for the child: Python and numpy need ~150 MB
BOMB_SIZE = 1 << 30  # what each bomb inflates to: twice the cap
_ZEROS = 1 << 24


def _bomb_stream(head: bytes):
    """(raw deflate data, CRC-32, size) of ``head`` followed by zeros up to BOMB_SIZE bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(_ZEROS)) + c.flush(zlib.Z_FULL_FLUSH)
    n = (BOMB_SIZE - len(head)) // _ZEROS
    crc, zeros = zlib.crc32(head), bytes(_ZEROS)
    for _ in range(n):
        crc = zlib.crc32(zeros, crc)
    return start + block * n + c.flush(), crc, len(head) + n * _ZEROS


# An IDX header that promises 10 bytes of data, followed by a gigabyte of zeros.
IDX_HEAD = bytes([0, 0, 8, 1]) + struct.pack(">I", 10)


def _deflated(data: bytes):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def _zip(members) -> bytes:
    """A zip archive of ``(name, (deflated bytes, crc, size))``; sizes are whatever they say."""
    out, central = bytearray(), bytearray()
    for name, (data, crc, size) in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
        out += raw + data
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(data),
            size,
            len(raw),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def _npy(array) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)
    return f.getvalue()


def _config(sizes, **extra):
    config = dict(kind="MLP", sizes=sizes, activation="sigmoid", output_activation="sigmoid", dtype="float32")
    return dict(config, format="microgradnet-model-1", **extra)


def _model_members(sizes=(4, 3, 2), config=None):
    model = mg.nn.MLP(list(sizes), seed=0)
    members = [("__config__.npy", _deflated(_npy(np.array(json.dumps(config or _config(list(sizes)))))))]
    members += [(f"{k}.npy", _deflated(_npy(v))) for k, v in model.state_dict().items()]
    return members


_CHILD = textwrap.dedent(
    """
    import json, re, resource, signal, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
    import microgradnet as mg
    from microgradnet.datasets import read_idx

    def too_long(*_):
        raise TimeoutError("still reading after 10 s")

    def peak_mb():
        return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024

    signal.signal(signal.SIGALRM, too_long)
    for line in sys.stdin:
        call, path = json.loads(line)
        open("/proc/self/clear_refs", "w").write("5")  # restart the peak memory count
        started = time.perf_counter()
        signal.alarm(10)
        try:
            eval(call)
            result = {"error": None}
        except BaseException as e:
            result = {"error": type(e).__name__, "message": str(e)}
        signal.alarm(0)
        result["seconds"] = time.perf_counter() - started
        result["peak_mb"] = peak_mb()
        print(json.dumps(result), flush=True)
    """
)


def read_capped(cases):
    """Run each ``(call, path)`` (``mg.load(path)`` or ``read_idx(path)``) in one child process
    under MEMORY_CAP, each with a 10 s alarm; returns one result dict per case."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    lines = "".join(json.dumps([call, str(path)]) + "\n" for call, path in cases)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(MEMORY_CAP)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60 + 10 * len(cases),
        env=env,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(cases), proc.stderr[-3000:]
    return results


def assert_refused(result, error, path, *words):
    assert result["error"] == error, result
    assert str(path) in result["message"], result["message"]
    for w in words:
        assert w in result["message"], (w, result["message"])
    assert result["seconds"] < 5, result
    assert result["peak_mb"] < 100, result  # the file's claims were never believed


# ============================================================================ the files


def _gzip(stream, crc, size) -> bytes:
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + stream + struct.pack("<LL", crc, size & 0xFFFFFFFF)


def _make_files(folder):
    """{case: (call, path)}: every hostile file, plus a good model as a control."""
    bomb = _bomb_stream(IDX_HEAD)
    cases = {}

    def case(name, call, path, data=None):
        if data is not None:
            path.write_bytes(data)
        cases[name] = (call, path)

    for sizes in ([20000, 20000, 2], [200000, 200000]):
        path = folder / f"huge-{sizes[0]}.npz"
        np.savez_compressed(path, __config__=np.array(json.dumps(_config(sizes))))
        case(f"huge {sizes[0]}", "mg.load(path)", path)
    case(
        "unknown member", "mg.load(path)", folder / "bomb.npz", _zip(_model_members() + [("bomb.npy", bomb)])
    )
    # a genuine (4, 3) array, then a gigabyte of zeros: reading only the array's bytes would
    # load the model as if all were well
    fat = _bomb_stream(_npy(np.zeros((4, 3), np.float32)))
    members = [(n, fat if n == "layers.0.weight.npy" else m) for n, m in _model_members()]
    case("fat member", "mg.load(path)", folder / "fat.npz", _zip(members))
    members = dict(_model_members())
    members["layers.0.weight.npy"] = _deflated(_npy(np.zeros((4, 300000), np.float32)))
    case("wide header", "mg.load(path)", folder / "wide.npz", _zip(list(members.items())))
    case("good model", "mg.load(path)", mg.save(mg.nn.MLP([784, 16, 16, 10], seed=0), folder / "ok.npz"))

    case("idx bomb", "read_idx(path)", folder / "bomb-idx1-ubyte.gz", _gzip(*bomb))
    head = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 2000)  # 3.36 GB promised
    case("idx promise", "read_idx(path)", folder / "promise.gz", _gzip(*_deflated(head + bytes(1000))))
    for label, dims in OVERFLOWS.items():
        head = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
        case(f"overflow {label}", "read_idx(path)", folder / f"overflow-{label}.idx", head + bytes(16))
        gz = _gzip(*_deflated(head + bytes(16)))
        case(f"overflow {label} gz", "read_idx(path)", folder / f"overflow-{label}.gz", gz)

    os.mkfifo(folder / "pipe")
    case("fifo load", "mg.load(path)", folder / "pipe")
    case("fifo idx", "read_idx(path)", folder / "pipe")
    case("device load", "mg.load(path)", "/dev/zero")
    case("device idx", "read_idx(path)", "/dev/zero")
    return cases


OVERFLOWS = {"2^96": (2**32 - 1,) * 3, "2^64": (2**16,) * 4, "2^64b": (2**31, 2**31, 4)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """{case: (result, path)}, every file read once in the same capped child."""
    cases = _make_files(tmp_path_factory.mktemp("hostile"))
    results = read_capped(list(cases.values()))
    return {name: (result, path) for (name, (_, path)), result in zip(cases.items(), results)}


# ============================================================================ model files


@pytest.mark.parametrize("case", ["huge 20000", "huge 200000"])
def test_a_tiny_model_file_claiming_a_huge_network_is_refused_at_once(hostile, case):
    result, path = hostile[case]
    assert path.stat().st_size < 500
    assert_refused(result, "ModelFileError", path, "has no layers.0.bias, layers.0.weight")


def test_an_unknown_member_is_refused_unread(hostile):
    result, path = hostile["unknown member"]
    assert path.stat().st_size < 3 << 20
    assert_refused(result, "ModelFileError", path, "unexpected arrays bomb")


def test_a_weight_member_declaring_a_gigabyte_is_refused_by_its_table_entry(hostile):
    result, path = hostile["fat member"]
    assert_refused(result, "ModelFileError", path, "layers.0.weight declares 1,0")


def test_a_header_disagreeing_with_the_architecture_is_refused_before_its_data(hostile):
    result, path = hostile["wide header"]
    assert_refused(result, "ModelFileError", path, "layers.0.weight")


def test_a_well_formed_model_file_loads_under_the_same_cap(hostile):
    result, _ = hostile["good model"]
    assert result["error"] is None, result


# ============================================================================ IDX files


def test_a_gzip_inflating_far_beyond_its_header_is_stopped(hostile):
    result, path = hostile["idx bomb"]
    assert path.stat().st_size < 3 << 20
    assert_refused(result, "DataError", path, "10 data bytes", "longer than its header")


def test_a_header_promising_gigabytes_in_a_tiny_gzip_allocates_nothing(hostile):
    result, path = hostile["idx promise"]
    assert_refused(result, "DataError", path, "3,360,000,000 data bytes", "truncated")


@pytest.mark.parametrize("dims", list(OVERFLOWS))
@pytest.mark.parametrize("gz", ["", " gz"])
def test_dims_whose_product_overflows_are_refused(hostile, dims, gz):
    result, path = hostile[f"overflow {dims}{gz}"]
    exact = f"{np.prod(OVERFLOWS[dims], dtype=object):,} data bytes"  # Python ints: no overflow
    assert_refused(result, "DataError", path, exact)


# ============================================================================ not files at all


@pytest.mark.parametrize("call, error", [("load", "ModelFileError"), ("idx", "DataError")])
def test_a_fifo_is_refused_not_waited_on(hostile, call, error):
    result, path = hostile[f"fifo {call}"]
    assert_refused(result, error, path, "FIFO")


@pytest.mark.parametrize("call, error", [("load", "ModelFileError"), ("idx", "DataError")])
def test_a_device_is_refused_not_read_forever(hostile, call, error):
    result, path = hostile[f"device {call}"]
    assert_refused(result, error, path, "character device")
