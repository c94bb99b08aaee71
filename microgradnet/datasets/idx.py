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
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from microgradnet.errors import DataError

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


def _describe_codes() -> str:
    return ", ".join(f"0x{code:02X} {dt.name}" for code, dt in IDX_TYPES.items())


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, un-gzipped if it starts with the gzip magic bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"expected an IDX file but found a folder: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a cut-off stream raises EOFError.
        raise DataError(
            f"{path} starts like a gzip file but cannot be decompressed ({exc}); "
            "it is probably damaged or an incomplete download: delete it and fetch it again"
        ) from exc


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzipped or raw) into a new numpy array.

    Returns an array with the shape from the file's header and the native-endian dtype for
    its type code (uint8 for 0x08, int8, int16, int32, float32, float64). Raises
    :class:`~microgradnet.errors.DataError`, naming the file, if it is not IDX, has a
    broken header, or holds fewer or more data bytes than its header promises.
    """
    path = Path(os.fspath(path))
    data = _read_bytes(path)

    if len(data) < 4:
        raise DataError(
            f"{path} is not an IDX file: it has only {len(data)} bytes, an IDX header needs at least 4"
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        hint = ""
        if data.lstrip()[:1] == b"<":
            hint = " (it looks like an HTML page: a failed download?)"
        raise DataError(
            f"{path} is not an IDX file: it should start with bytes 00 00, got {data[:4].hex(' ')}{hint}"
        )
    if code not in IDX_TYPES:
        raise DataError(
            f"{path}: unknown IDX type code 0x{code:02X} in the header (known codes: {_describe_codes()})"
        )
    if ndim == 0:
        raise DataError(f"{path}: the IDX header says the array has 0 dimensions")

    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{path}: the IDX header declares {ndim} dimensions and so needs {header_len} bytes, "
            f"but the file has only {len(data)}; it is truncated"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header_len
    if got != expected:
        problem = "truncated" if got < expected else "longer than its header says"
        raise DataError(
            f"{path}: the header promises shape {tuple(shape)} of {dtype.name}, i.e. "
            f"{expected} data bytes, but the file has {got}; it is {problem}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable native-endian copy


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
    payload = header + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.name.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path
