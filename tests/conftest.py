"""Shared test helpers.

``require(module)`` imports an optional extra (torch, onnx, playwright …). A user without
it gets a skip; CI sets ``MICROGRADNET_REQUIRE_EXTRAS=1`` so a missing extra fails instead
of hiding behind a skip. ``require_mnist()`` does the same for MNIST's test set, found
where users keep it (see :func:`find_mnist`).
"""

import importlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

REQUIRED = os.environ.get("MICROGRADNET_REQUIRE_EXTRAS") == "1"
ROOT = Path(__file__).resolve().parents[1]
MNIST_ENV = "MICROGRADNET_MNIST"
MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")  # the 10,000 test digits
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def require(module: str):
    """Import ``module`` or skip (fail when CI requires every extra)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if REQUIRED:
            pytest.fail(f"{module} is required in CI but cannot be imported: {e}")
        pytest.skip(f"optional extra {module} is not installed")


def require_path(path: Path, what: str) -> Path:
    """A data folder or program that must exist in CI, skipped for users without it."""
    if not Path(path).exists():
        if REQUIRED:
            pytest.fail(f"{what} is required in CI but {path} is missing")
        pytest.skip(f"{what} not available at {path}")
    return Path(path)


def _holds_mnist_test_set(folder: Path) -> bool:
    return all(any((folder / f"{stem}{gz}").is_file() for gz in ("", ".gz")) for stem in MNIST_FILES)


def mnist_places() -> list[Path]:
    """Where the tests look for MNIST's test set, in order: the folder named by
    ``$MICROGRADNET_MNIST`` (only that one when it is set); else the data cache that
    ``load_mnist()`` downloads into (``$MICROGRADNET_DATA/mnist``, or
    ``~/.cache/microgradnet/mnist``); else ``../shared/data/mnist`` beside the checkout."""
    from microgradnet.datasets import default_cache_dir

    explicit = os.environ.get(MNIST_ENV)
    if explicit:
        return [Path(explicit).expanduser()]
    return [default_cache_dir() / "mnist", ROOT.parent / "shared" / "data" / "mnist"]


def find_mnist() -> Path | None:
    """The first of :func:`mnist_places` that holds MNIST's two test-set IDX files (gzipped
    or not), or None."""
    return next((p for p in mnist_places() if _holds_mnist_test_set(p)), None)


# Resolved once, at import: some tests point $MICROGRADNET_DATA at an empty temp folder.
MNIST_DIR = find_mnist()
_MNIST_LOOKED_IN = mnist_places()


def require_mnist() -> Path:
    """The folder holding MNIST's 10,000 test digits, or a skip (a failure in CI) that says
    how to provide them."""
    if MNIST_DIR is None:
        where = ", ".join(str(p) for p in _MNIST_LOOKED_IN)
        how = (
            f"MNIST's test set ({MNIST_FILES[0]}.gz and {MNIST_FILES[1]}.gz) was not found in {where}; "
            f"set {MNIST_ENV}=/folder/with/the/files, or download it once into the data cache with "
            "python -c \"import microgradnet as mg; mg.datasets.load_mnist(split='test')\""
        )
        if REQUIRED:
            pytest.fail(f"{how} (required in CI)")
        pytest.skip(how)
    return MNIST_DIR


def require_program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        if REQUIRED:
            pytest.fail(f"program {name} is required in CI but not on PATH")
        pytest.skip(f"program {name} is not installed")
    return found


def read_unreadable(call: str, make, name: str) -> bool:
    """Make a file with ``make(path)``, take away its read permission and call ``call(path)``
    (e.g. ``"mg.load"``) on it; True when that raises a PermissionError naming the file.

    Root may read any file, so the call runs in a child that drops to the user 'nobody'
    when it starts as root (after its imports: the Python install may be private)."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        path = Path(folder) / name
        make(path)
        os.chmod(path, 0)
        code = (
            "import os, sys\n"
            "import microgradnet as mg\n"
            "if os.geteuid() == 0:\n    os.setgid(65534)\n    os.setuid(65534)\n"
            f"try:\n    {call}(sys.argv[1])\n"
            "except Exception as e:\n    print(type(e).__name__, getattr(e, 'filename', None), e, sep='|')\n"
        )
        proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    kind, filename, message = (proc.stdout.strip().split("|") + ["", "", ""])[:3]
    assert kind == "PermissionError", proc.stdout + proc.stderr
    assert filename == str(path) and "Permission denied" in message, proc.stdout
    return True


def require_renderer(name: str | None = None) -> str:
    """The program that lays out graphs: ``name`` (``dot`` or ``graphviz-pure``) or, by
    default, the one microgradnet picks (``$MICROGRADNET_RENDERER`` honoured). Skipped when
    missing, a failure in CI. CI's second run sets MICROGRADNET_RENDERER=graphviz-pure to
    hide dot: a test that asks for dot by name skips there, as on a machine without it."""
    from microgradnet.viz.render import RENDERER_ENV, GraphvizNotFoundError, find_renderer

    if name == "dot" and os.environ.get(RENDERER_ENV) == "graphviz-pure":
        pytest.skip(f"{RENDERER_ENV}=graphviz-pure: this run draws without dot")
    try:
        return find_renderer(name).name
    except GraphvizNotFoundError as e:
        if REQUIRED:
            pytest.fail(f"a graph renderer is required in CI: {e}")
        pytest.skip(f"no graph renderer: {e}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    import microgradnet as mg

    before = mg.get_default_dtype()
    yield
    mg.set_default_dtype(before)


def notebook_env(folder: Path) -> dict:
    """Environment for a Jupyter kernel or server run by a test, everything under ``folder``.

    A kernelspec named ``python3`` that runs THIS interpreter (``sys.executable`` with its
    ipykernel, not whatever ``python`` is first on PATH) comes first on JUPYTER_PATH, so a
    notebook saved with the usual ``python3`` kernel runs here; the kernel imports this
    checkout's microgradnet. Config, runtime and IPython folders are private to the test.
    MPLBACKEND is dropped, as in a learner's notebook.
    """
    import json
    import sys

    require("ipykernel")
    spec = folder / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (microgradnet tests)",
                "language": "python",
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(
        JUPYTER_PATH=str(folder / "jupyter"),
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        IPYTHONDIR=str(folder / "ipython"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env
