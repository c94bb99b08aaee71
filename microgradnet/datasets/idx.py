"""Read and write IDX files, the simple array format that MNIST and Fashion-MNIST ship in.

An IDX file is a header and then the array's values, big-endian, in C (row-major) order:

* 2 zero bytes,
* 1 byte: the type code of the values (0x08 unsigned byte, 0x09 signed byte, 0x0B 16-bit int,
  0x0C 32-bit int, 0x0D 32-bit float, 0x0E 64-bit float),
* 1 byte: the number of dimensions,
* one 32-bit big-endian unsigned size per dimension.

Files are often gzipped; :func:`read_idx` recognises gzip by its first two bytes (1f 8b),
whatever the file is called.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from microgradnet.atomic import atomic_write
from microgradnet.errors import DataError
from microgradnet.files import open_regular

__all__ = ["read_idx", "write_idx", "IDX_TYPES"]

#: IDX type code -> numpy dtype of the values as stored (big-endian).
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
#: The most data bytes :func:`read_idx` accepts by default (MNIST's training images are 47 MB).
MAX_BYTES = 1 << 32


def _describe_codes() -> str:
    return ", ".join(f"0x{code:02X} {dt.name}" for code, dt in IDX_TYPES.items())


class _Damaged(Exception):
    """A gzip stream that cannot be decompressed (wrapped so it reads as one DataError)."""


def _read_up_to(stream, n: int, gz: bool) -> bytearray:
    """At most ``n`` bytes of ``stream``: fewer only at its end. Memory grows with the bytes
    that actually arrive, whatever ``n`` a header claimed."""
    out = bytearray()
    while len(out) < n:
        try:
            chunk = stream.read(min(_CHUNK, n - len(out)))
        except (OSError, EOFError, zlib.error) as exc:
            # gzip.BadGzipFile is an OSError; a cut-off stream raises EOFError.
            if gz and (isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile))):
                raise _Damaged(str(exc) or type(exc).__name__) from None
            raise
        if not chunk:
            break
        out += chunk
    return out


def _header(path: Path, stream, gz: bool) -> tuple[tuple[int, ...], np.dtype, int]:
    """``(shape, dtype, header length)`` from the start of ``stream``, checked."""
    head = _read_up_to(stream, 4, gz)
    if len(head) < 4:
        raise DataError(
            f"{path} is not an IDX file: it has only {len(head)} bytes, an IDX header needs at least 4"
        )
    zero0, zero1, code, ndim = head
    if zero0 != 0 or zero1 != 0:
        hint = ""
        if bytes(head).lstrip()[:1] == b"<":
            hint = " (it looks like an HTML page: a failed download?)"
        raise DataError(
            f"{path} is not an IDX file: it should start with bytes 00 00, got {head.hex(' ')}{hint}"
        )
    if code not in IDX_TYPES:
        raise DataError(
            f"{path}: unknown IDX type code 0x{code:02X} in the header (known codes: {_describe_codes()})"
        )
    if ndim == 0:
        raise DataError(f"{path}: the IDX header says the array has 0 dimensions")
    header_len = 4 + 4 * ndim
    dims = _read_up_to(stream, 4 * ndim, gz)
    if len(dims) < 4 * ndim:
        raise DataError(
            f"{path}: the IDX header declares {ndim} dimensions and so needs {header_len} bytes, "
            f"but the file has only {4 + len(dims)}; it is truncated"
        )
    return struct.unpack(f">{ndim}I", dims), IDX_TYPES[code], header_len


def read_idx(path, *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read one IDX file (gzipped or raw) into a new numpy array.

    Returns an array with the shape from the file's header and the native-endian dtype for
    its type code (uint8 for 0x08, int8, int16, int32, float32, float64). Raises
    :class:`~microgradnet.errors.DataError`, naming the file, if it is not IDX, has a
    broken header, holds fewer or more data bytes than its header promises, or promises
    more than ``max_bytes`` of data (4 GiB by default). Memory stays bounded by what the
    header declares: a gzip that would inflate far beyond it is stopped one byte past it.
    A FIFO or a device is refused unread; a file that may not be read is a PermissionError.
    """
    path = Path(os.fspath(path))
    with open_regular(path, DataError, "IDX file") as raw:
        gz = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(filename="", fileobj=raw, mode="rb") if gz else raw
        try:
            return _read_array(path, stream, gz, raw, max_bytes)
        except _Damaged as exc:
            raise DataError(
                f"{path} starts like a gzip file but cannot be decompressed ({exc}); "
                "it is probably damaged or an incomplete download: delete it and fetch it again"
            ) from None
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from None


def _read_array(path: Path, stream, gz: bool, raw, max_bytes: int) -> np.ndarray:
    shape, dtype, header_len = _header(path, stream, gz)
    count = math.prod(shape)  # exact: Python integers do not overflow
    expected = count * dtype.itemsize
    promise = f"the header promises shape {tuple(shape)} of {dtype.name}, i.e. {expected:,} data bytes"
    if count > np.iinfo(np.intp).max or expected > max_bytes:
        raise DataError(
            f"{path}: {promise}, more than the {max_bytes:,} bytes read_idx accepts "
            "(a damaged header? pass max_bytes= to read a file this large)"
        )
    if not gz:
        got = os.fstat(raw.fileno()).st_size - header_len  # known before reading anything
        if got != expected:
            problem = "truncated" if got < expected else "longer than its header says"
            raise DataError(f"{path}: {promise}, but the file has {got:,}; it is {problem}")
    data = _read_up_to(stream, expected + 1, gz)  # one byte more tells of trailing data
    if len(data) != expected:
        if len(data) < expected:
            problem = f"the file has {len(data):,}; it is truncated"
        else:
            problem = "the file holds more; it is longer than its header says"
        raise DataError(f"{path}: {promise}, but {problem}")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)  # shares the (writable) buffer
    if not dtype.isnative and dtype.itemsize > 1:
        array = array.byteswap(inplace=True)
    return array.view(dtype.newbyteorder("="))


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write ``array`` to ``path`` as an IDX file; gzip it if ``compress`` (default: name ends in .gz).

    The dtype must be one IDX can hold: uint8, int8, int16, int32, float32 or float64, and
    the array needs at least one dimension. Returns the path written.
    """
    path = Path(os.fspath(path))
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=")
    if native not in _CODES:
        raise DataError(
            f"cannot write {path}: IDX has no type for dtype {arr.dtype} (it holds {_describe_codes()})"
        )
    if arr.ndim == 0 or arr.ndim > 255:
        raise DataError(f"cannot write {path}: IDX needs 1 to 255 dimensions, got {arr.ndim}")
    if any(d >= 2**32 for d in arr.shape):
        raise DataError(f"cannot write {path}: a dimension of {arr.shape} does not fit in 32 bits")
    code = _CODES[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    values = np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).data
    if compress is None:
        compress = path.name.endswith(".gz")
    with atomic_write(path) as f:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as z:
                z.write(header)
                z.write(values)
        else:
            f.write(header)
            f.write(values)
    return path
