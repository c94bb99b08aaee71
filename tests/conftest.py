"""Shared test helpers.

``require(module)`` imports an optional extra (torch, onnx, playwright …). A user without
it gets a skip; CI sets ``MICROGRADNET_REQUIRE_EXTRAS=1`` so a missing extra fails instead
of hiding behind a skip.
"""

import importlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

REQUIRED = os.environ.get("MICROGRADNET_REQUIRE_EXTRAS") == "1"
ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
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


def require_program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        if REQUIRED:
            pytest.fail(f"program {name} is required in CI but not on PATH")
        pytest.skip(f"program {name} is not installed")
    return found


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    import microgradnet as mg

    before = mg.get_default_dtype()
    yield
    mg.set_default_dtype(before)
