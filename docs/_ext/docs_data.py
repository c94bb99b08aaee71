"""Where the tutorial's digits come from when the site is built.

The pages load MNIST the way a reader does, ``mg.datasets.load_mnist(split="test",
download=False)``, which reads ``$MICROGRADNET_DATA/mnist``. The build is offline, on
machines that may hold only MNIST's 10,000 *test* digits, or none, so ``conf.py`` stages
that folder with links to the files found, in order, in

1. the folder named by ``MICROGRADNET_MNIST``, if set (even an empty or missing one: that
   builds the fallback on purpose);
2. ``../shared/data/mnist`` beside the repository (where CI keeps the test set);
3. the reader's own data cache (``$MICROGRADNET_DATA/mnist`` or ``~/.cache/microgradnet/mnist``).

With none, the folder stays empty, ``load_mnist`` raises ``DataError``, and the pages fall
back to the 8×8 digits embedded in microgradnet, saying so on the page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def mnist_folder() -> Path | None:
    """The folder holding MNIST's test-set IDX files (gzipped or not), or None."""
    chosen = os.environ.get("MICROGRADNET_MNIST")
    if chosen is not None:
        candidates = [Path(chosen).expanduser()]
    else:
        from microgradnet.datasets.mnist import default_cache_dir

        candidates = [ROOT.parent / "shared" / "data" / "mnist", default_cache_dir() / "mnist"]
    for folder in candidates:
        if all(_file(folder, stem) for stem in TEST_FILES):
            return folder
    return None


def _file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def stage_mnist(data_dir: Path) -> Path:
    """Make ``data_dir/mnist`` hold links to the test set :func:`mnist_folder` finds (or
    nothing) and return ``data_dir``, the value for ``MICROGRADNET_DATA``."""
    target = data_dir / "mnist"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    folder = mnist_folder()
    if folder is not None:
        for stem in TEST_FILES:
            source = _file(folder, stem).resolve()
            (target / source.name).symlink_to(source)
    return data_dir
