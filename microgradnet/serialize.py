"""Save and load models as ``.npz``: the weights by name plus the architecture as JSON.

No pickle either way: a model file from anyone is only arrays of numbers and one string.
Writing goes to a temporary file beside the target, renamed into place at the end, so an
interrupted save never leaves a half-written model.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import ModelFileError

FORMAT = "microgradnet-model-1"


def save(model, path) -> Path:
    """Write ``model`` (an ``MLP``) to ``path`` (``.npz``), atomically. Returns the path."""
    if not hasattr(model, "config"):
        raise TypeError(
            f"save: can only save models that describe themselves (MLP), not {type(model).__name__}"
        )
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path.parent and not path.parent.exists():
        raise ModelFileError(f"save: the folder {path.parent} does not exist")
    arrays = {name: value for name, value in model.state_dict().items()}
    meta = dict(model.config(), format=FORMAT)
    arrays["__config__"] = np.array(json.dumps(meta))
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)
    return path


def read_config(path) -> tuple[dict, dict]:
    """The architecture dict and the arrays of a model file, checked; errors name the file."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    try:
        z = np.load(path, allow_pickle=False)
        if not hasattr(z, "files"):  # a .npy file loads as one bare array
            raise ValueError("it holds a single array (.npy), not named arrays")
        with z:
            arrays = {k: z[k] for k in z.files}
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        ValueError,
        OSError,
        EOFError,
    ) as e:
        raise ModelFileError(f"{path}: not a microgradnet model file (.npz): {e}") from None
    if "__config__" not in arrays:
        raise ModelFileError(f"{path}: an .npz file but not a microgradnet model (no architecture inside)")
    try:
        config = json.loads(str(arrays.pop("__config__")))
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{path}: the architecture record is damaged: {e}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: unknown model format {config.get('format') if isinstance(config, dict) else config!r}"
        )
    return config, arrays


def load(path):
    """Rebuild the model saved at ``path`` and load its weights."""
    from .nn import MLP

    config, arrays = read_config(path)
    if config.get("kind") != "MLP":
        raise ModelFileError(f"{path}: model kind {config.get('kind')!r} is not supported")
    try:
        model = MLP(
            config["sizes"],
            activation=config["activation"],
            output_activation=config["output_activation"],
            dtype=np.dtype(config["dtype"]),
        )
    except (KeyError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: the architecture record is invalid: {e}") from None
    try:
        model.load_state_dict(arrays)
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    return model
