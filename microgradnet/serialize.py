"""Save and load models as ``.npz``: the weights by name plus the architecture as JSON.

No pickle either way: a model file from anyone is only arrays of numbers and one string.
Writing goes to a temporary file beside the target, renamed into place at the end, so an
interrupted save never leaves a half-written model.

Loading trusts nothing in the file and reads nothing big before it is checked. The zip's
table of contents lists each member's name and size; the architecture record is read first
(it is small), and it says exactly which weight arrays must follow, of which shapes and
dtype, and so how many bytes each must hold. Every member is compared with that, by name and
by the sizes its table entry and its ``.npy`` header declare, before a weight is read or a
network is built: a 369-byte file that claims a 20000-20000-2 network, or a small member that
would inflate to gigabytes, is refused at once, naming the file. Weights that are NaN or
infinite (a training run that diverged) are refused too, unless ``allow_nonfinite=True``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import atomic_write
from .errors import HIDDEN_FOR_USER_ERRORS, ModelFileError
from .files import open_regular

if TYPE_CHECKING:
    from .nn import MLP, Module

FORMAT = "microgradnet-model-1"
CONFIG_LIMIT = 1 << 16  # bytes: the architecture record is a line of JSON
_NPY_HEADER_LIMIT = 10_000  # numpy's own limit for a trusted .npy header
_CONFIG = "__config__"
_DTYPES = ("float32", "float64")


class NonFiniteWeightsError(ModelFileError):
    """A saved model holds NaN or infinite weights; ``reason`` says which, without advice."""

    def __init__(self, path, reason: str):
        self.reason = f"{path}: {reason}"
        super().__init__(
            f"{self.reason}; the training that wrote it diverged (a learning rate too large?). "
            "Load it anyway with allow_nonfinite=True"
        )


def save(model: Module, path: str | os.PathLike[str], *, trained_on: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (an ``MLP``) to ``path`` (``.npz``), atomically. Returns the path.

    ``trained_on`` (default: ``model.trained_on``) is a small JSON-able dict describing the
    data the model learnt from, e.g. ``{"dataset": "mnist", "split_test_set": 8000}``; it is
    stored with the architecture and comes back as ``model.trained_on`` after :func:`load`.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    if not hasattr(model, "config"):
        raise TypeError(
            f"save: can only save models that describe themselves (MLP), not {type(model).__name__}"
        )
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path.parent and not path.parent.exists():
        raise ModelFileError(f"save: the folder {path.parent} does not exist")
    arrays: dict[str, Any] = {name: value for name, value in model.state_dict().items()}
    meta = dict(model.config(), format=FORMAT)
    if trained_on is None:
        trained_on = getattr(model, "trained_on", None)
    if trained_on is not None:
        if not isinstance(trained_on, dict):
            raise TypeError(f"save: trained_on must be a dict, got {type(trained_on).__name__}")
        meta["trained_on"] = trained_on
    try:
        arrays[_CONFIG] = np.array(json.dumps(meta))
    except (TypeError, ValueError) as e:
        raise TypeError(f"save: trained_on must hold only JSON values (str, numbers, lists): {e}") from None
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)
    return path


# ----------------------------------------------------------------------------- the architecture


def _expected_arrays(config: dict) -> dict[str, tuple[int, ...]]:
    """Each parameter an MLP of ``config`` has, with its shape: ``layers.i.weight`` (in, out),
    ``layers.i.bias`` (out,). Raises ValueError for a config no MLP can have."""
    from .nn.layers import get_activation

    if config.get("kind") != "MLP":
        raise ValueError(f"model kind {config.get('kind')!r} is not supported (only 'MLP')")
    sizes = config.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in sizes)
    ):
        raise ValueError(f"sizes must be a list of at least two positive whole numbers, got {sizes!r}")
    for key in ("activation", "output_activation"):
        if not isinstance(config.get(key), str):
            raise ValueError(f"{key} must be an activation's name, got {config.get(key)!r}")
        get_activation(config[key])  # a ValueError naming the choices
    if config.get("dtype") not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {config.get('dtype')!r}")
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        shapes[f"layers.{i}.weight"] = (n_in, n_out)
        shapes[f"layers.{i}.bias"] = (n_out,)
    return shapes


def _npy_header(f) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header bytes)`` of the ``.npy`` stream ``f``, read
    without trusting it (a bounded header, no pickled objects)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=_NPY_HEADER_LIMIT)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=_NPY_HEADER_LIMIT)
    else:
        raise ValueError(f".npy format version {version} is not one microgradnet writes")
    if dtype.hasobject:
        raise ValueError("it holds Python objects, not numbers")
    return tuple(int(n) for n in shape), bool(fortran), dtype, f.tell()


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, check) -> np.ndarray:
    """The array stored in member ``info``. ``check(shape, dtype)`` vets the header before a
    byte of data is read; the table of contents must agree with the header on the size."""
    with zf.open(info) as f:
        shape, fortran, dtype, start = _npy_header(f)
        check(shape, dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != start + nbytes:
            raise ValueError(
                f"{info.filename} declares {info.file_size:,} bytes but its header describes "
                f"{start + nbytes:,} (shape {shape} of {dtype})"
            )
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{info.filename} is cut short")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _read_config(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict:
    info = members.get(_CONFIG)
    if info is None:
        raise ModelFileError("an .npz file but not a microgradnet model (no architecture inside)")
    if info.file_size > CONFIG_LIMIT:
        raise ModelFileError(
            f"not a microgradnet model: its architecture record declares {info.file_size:,} bytes "
            f"(at most {CONFIG_LIMIT:,})"
        )

    def text_only(shape, dtype):
        if shape != () or dtype.kind != "U":
            raise ModelFileError("not a microgradnet model: its architecture record is not a string")

    text = str(_read_member(zf, info, text_only)[()])
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"the architecture record is damaged: {e}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else config
        raise ModelFileError(f"unknown model format {found!r}")
    return config


def _list_problems(names, what: str) -> str:
    names = sorted(names)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"{what} {shown}"


def _read_model_zip(zf: zipfile.ZipFile, allow_nonfinite: bool, path) -> tuple[dict, dict]:
    members = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ModelFileError(f"not a microgradnet model file: it holds {info.filename!r}, not an array")
        members[info.filename[: -len(".npy")]] = info
    config = _read_config(zf, members)
    try:
        shapes = _expected_arrays(config)
    except ValueError as e:
        raise ModelFileError(f"the architecture record is invalid: {e}") from None
    dtype = np.dtype(config["dtype"])
    stored = set(members) - {_CONFIG}
    missing, unknown = set(shapes) - stored, stored - set(shapes)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(_list_problems(missing, "it has no"))
        if unknown:
            parts.append(_list_problems(unknown, "it holds unexpected arrays"))
        sizes = "-".join(map(str, config["sizes"]))
        raise ModelFileError(f"the file does not match its {sizes} architecture: {'; '.join(parts)}")
    for name, shape in shapes.items():  # the table of contents alone, before reading any data
        smallest = math.prod(shape) * dtype.itemsize
        if not smallest <= members[name].file_size <= smallest + _NPY_HEADER_LIMIT + 16:
            raise ModelFileError(
                f"{name} declares {members[name].file_size:,} bytes, but a {shape} array of "
                f"{dtype} takes {smallest:,} plus a short header"
            )
    arrays = {}
    for name, shape in shapes.items():

        def fits(got_shape, got_dtype, name=name, shape=shape):
            if got_shape != shape or got_dtype.newbyteorder("=") != dtype:
                raise ModelFileError(
                    f"{name} holds a {got_shape} array of {got_dtype}, but the architecture "
                    f"needs {shape} of {dtype}"
                )

        arrays[name] = _read_member(zf, members[name], fits)
        if not allow_nonfinite:
            problem = describe_nonfinite(name, arrays[name])
            if problem:
                raise NonFiniteWeightsError(path, problem)
    return config, arrays


def describe_nonfinite(name: str, values: np.ndarray) -> str | None:
    """``"layers.0.weight holds 2 NaN and 1 infinite values (of 12)"``, or None if all are finite."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return None
    finite = np.isfinite(values)
    if finite.all():
        return None
    nan = int(np.isnan(values).sum())
    inf = values.size - int(finite.sum()) - nan
    counts = " and ".join(
        part for part in (f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else "") if part
    )
    return f"{name} holds {counts} value{'s' if nan + inf > 1 else ''} (of {values.size:,})"


def read_model_file(
    path: str | os.PathLike[str], *, allow_nonfinite: bool = False
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The architecture dict and the weight arrays of a model file, each checked against the
    other before anything big is read; every error names the file."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    path = Path(path)
    with open_regular(path, ModelFileError, "model file") as f:
        if f.read(6) == b"\x93NUMPY":
            raise ModelFileError(f"{path}: not a microgradnet model file: it holds a single array (.npy)")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                return _read_model_zip(zf, allow_nonfinite, path)
        except ModelFileError as e:
            if str(e).startswith(f"{path}: "):
                raise
            raise ModelFileError(f"{path}: {e}") from None
        except zipfile.BadZipFile as e:
            why = "it is not a zip archive (.npz)" if "not a zip file" in str(e) else _short(e)
            raise ModelFileError(f"{path}: not a microgradnet model file: {why}") from None
        except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as e:
            # a damaged zip or .npy header, an encrypted member, an unknown compression
            raise ModelFileError(f"{path}: not a microgradnet model file: {_short(e)}") from None
        except OSError as e:
            if e.errno != errno.EINVAL:  # a disk error stays one
                raise OSError(e.errno, e.strerror, str(path)) from None
            # a damaged table of contents sends a read before the start of the file
            raise ModelFileError(f"{path}: not a microgradnet model file: damaged ({_short(e)})") from None


def _short(e: Exception) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def load(path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> MLP:
    """Rebuild the model saved at ``path`` and load its weights.

    Raises :class:`~microgradnet.errors.ModelFileError`, naming the file, for anything that
    is not a consistent microgradnet model file, checked before any large read. NaN or
    infinite weights are refused unless ``allow_nonfinite=True`` (to inspect a diverged run).
    The model's ``trained_on`` is what :func:`save` recorded about its data, or None.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    from .nn import MLP

    config, arrays = read_model_file(path, allow_nonfinite=allow_nonfinite)
    model = MLP(
        config["sizes"],
        activation=config["activation"],
        output_activation=config["output_activation"],
        dtype=np.dtype(config["dtype"]),
    )
    model.load_state_dict(arrays)
    trained_on = config.get("trained_on")
    model.trained_on = trained_on if isinstance(trained_on, dict) else None
    return model
