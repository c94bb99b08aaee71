"""MNIST and Fashion-MNIST: find the IDX files locally, or download and check them, then load.

Both datasets are four IDX files (see :mod:`microgradnet.datasets.idx`): 60,000 training
and 10,000 test images of 28x28 grey pixels (0..255) with their labels 0..9. The loaders
look for the files, gzipped or not, in a few folders; when they are missing they can
download the gzipped files from public mirrors, check each against its published MD5
checksum, and keep them in a cache folder (see :func:`default_cache_dir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microgradnet.atomic import atomic_write
from microgradnet.data import Dataset
from microgradnet.datasets.idx import read_idx
from microgradnet.errors import DataError

__all__ = [
    "load_mnist",
    "load_fashion_mnist",
    "default_cache_dir",
    "download_file",
    "MissingFilesError",
    "MIRRORS",
    "MD5",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
]

ENV_VAR = "MICROGRADNET_DATA"

#: Base URLs tried in turn for each dataset; a file's URL is base + file name (with .gz).
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}

#: Published MD5 of each gzipped file, as downloaded. Local copies are not held to these
#: (Debian, for one, re-compresses Fashion-MNIST); they are checked by their IDX structure.
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

#: Folders searched after the cache when no ``root`` is given (read-only system copies).
SYSTEM_DIRS: dict[str, list[Path]] = {
    "mnist": [],
    # Debian/Ubuntu package `dataset-fashion-mnist` installs the four .gz files here.
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}

MNIST_CLASSES = [str(k) for k in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
TIMEOUT = 30.0  # seconds without data before a download attempt is given up
DEADLINE = 600.0  # seconds for a whole file: a server that drips bytes is cut off
_CHUNK = 1 << 16


@dataclass(frozen=True)
class _Spec:
    key: str  # "mnist" / "fashion-mnist": cache sub-folder and table key
    title: str  # for messages
    classes: list


_MNIST = _Spec("mnist", "MNIST", MNIST_CLASSES)
_FASHION = _Spec("fashion-mnist", "Fashion-MNIST", FASHION_MNIST_CLASSES)


def default_cache_dir() -> Path:
    """The folder where downloaded datasets are kept (each in a sub-folder); not created here.

    ``$MICROGRADNET_DATA`` if set, else ``$XDG_CACHE_HOME/microgradnet``, else
    ``~/.cache/microgradnet``.
    """
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore relative paths
        return Path(xdg) / "microgradnet"
    return Path.home() / ".cache" / "microgradnet"


def _candidates(stem: str) -> list[str]:
    """File names under which ``stem`` may be stored: raw or .gz, and the 'x.idx3-ubyte' spelling."""
    dotted = stem.replace("-idx", ".idx")
    return [stem, stem + ".gz", dotted, dotted + ".gz"]


def _find(stem: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        for name in _candidates(stem):
            path = folder / name
            if path.is_file():
                return path
    return None


# --------------------------------------------------------------------------- download


class _ChecksumError(Exception):
    pass


class _Progress:
    """Reports download progress on stderr: a tqdm bar when tqdm is installed, else percentages."""

    def __init__(self, name: str, total: int | None, enabled: bool):
        self.name, self.total, self.done = name, total, 0
        self.enabled = enabled
        self._bar = None
        self._last_step = -1
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            size = f" ({total / 1e6:.1f} MB)" if total else ""
            print(f"downloading {name}{size}", file=sys.stderr, flush=True)
        else:
            self._bar = tqdm(total=total, desc=name, unit="B", unit_scale=True, file=sys.stderr, leave=False)

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        elif self.total and sys.stderr.isatty():
            step = 10 * self.done // self.total
            if step != self._last_step:
                self._last_step = step
                print(f"\r  {self.name}: {10 * step}%", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self.total and sys.stderr.isatty():
            print(file=sys.stderr, flush=True)


def _urlopen(url: str, timeout: float):
    """Open ``url``; proxy settings are read from the environment on every call."""
    request = urllib.request.Request(url, headers={"User-Agent": "microgradnet"})
    return urllib.request.build_opener().open(request, timeout=timeout)


class _TooSlow(Exception):
    pass


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and any missing parents; returns the ones created, deepest first."""
    made = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        made.append(parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the download folder {folder}: {exc.strerror or exc}") from None
    return made


def _fetch(
    url: str, dest: Path, md5: str | None, timeout: float, deadline: float, progress: bool, made: list
):
    """Download ``url`` to ``dest``. Nothing touches ``dest``'s folder before the server has
    answered; the folder is created then (noted in ``made``) and the bytes go to a temp file
    renamed into place only when complete and matching ``md5``. Raises on any failure,
    including a server too slow to finish within ``deadline`` seconds."""
    started = time.monotonic()
    with _urlopen(url, min(timeout, deadline)) as response:
        made += _make_folder(dest.parent)
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        digest = hashlib.md5(usedforsecurity=False)  # integrity check, not security
        read = getattr(response, "read1", response.read)  # read1: whatever arrived, not a full chunk
        bar = _Progress(dest.name, total, progress)
        with atomic_write(dest, suffix=".part") as out:
            try:
                while chunk := read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
                    if time.monotonic() - started > deadline:
                        raise _TooSlow(
                            f"the server sent only {bar.done:,} bytes in {deadline:g} s (the deadline); "
                            "try again later or another mirror"
                        )
            finally:
                bar.close()
            if total is not None and bar.done != total:
                raise http.client.IncompleteRead(b"", total - bar.done)
            if md5 is not None and digest.hexdigest() != md5:
                raise _ChecksumError(f"MD5 checksum mismatch: got {digest.hexdigest()}, expected {md5}")


def download_file(
    filename: str,
    folder,
    mirrors: list[str],
    md5: str | None = None,
    timeout: float = TIMEOUT,
    progress: bool = True,
    deadline: float = DEADLINE,
) -> Path:
    """Download ``filename`` into ``folder`` from the first of ``mirrors`` that delivers it intact.

    Each mirror is a base URL; the file's URL is ``base + filename``. Nothing is written,
    and a missing ``folder`` is not created, before a server answers; the bytes go to a temp
    file in ``folder`` and are moved into place only once complete and, if ``md5`` is given,
    matching it. On any failure (network error, a server silent for ``timeout`` seconds or
    too slow to finish within ``deadline`` seconds, checksum mismatch, Ctrl-C) the temp file
    is removed, and so are the folders this call created. Raises
    :class:`~microgradnet.errors.DataError` listing every mirror's error if none worked.
    Returns the path of the downloaded file.
    """
    folder = Path(os.fspath(folder))
    dest = folder / filename
    errors = []
    made: list[Path] = []
    try:
        for base in mirrors:
            url = base if base.endswith(filename) else base.rstrip("/") + "/" + filename
            try:
                _fetch(url, dest, md5, timeout, deadline, progress, made)
                made = []  # a file arrived: the folders stay
                return dest
            except (OSError, http.client.HTTPException, ValueError, _ChecksumError, _TooSlow) as exc:
                # URLError/HTTPError/timeouts are OSErrors; a cut connection is IncompleteRead.
                if isinstance(exc, urllib.error.HTTPError):
                    reason = f"HTTP {exc.code} {exc.reason}"
                elif isinstance(exc, urllib.error.URLError):
                    reason = str(exc.reason)
                elif isinstance(exc, http.client.IncompleteRead):
                    reason = "the connection closed before the whole file arrived"
                elif isinstance(exc, TimeoutError):
                    reason = f"no data for {min(timeout, deadline):g} s (timed out)"
                else:
                    reason = str(exc) or type(exc).__name__
                errors.append(f"{url}: {reason}")
    finally:
        for created in made:  # deepest first; only if still empty
            with contextlib.suppress(OSError):
                created.rmdir()
    if not mirrors:
        errors.append("no mirror URLs were given")
    raise DataError(f"could not download {filename} into {folder}:\n  " + "\n  ".join(errors))


# --------------------------------------------------------------------------- loading


def _check_split(split) -> list[str]:
    if split is None:
        return ["train", "test"]
    if split in _FILES:
        return [split]
    raise ValueError(f"split must be None (both), 'train' or 'test', got {split!r}")


class MissingFilesError(DataError):
    """A dataset's files are not where the loader looked (and could not be downloaded).

    Its fields say what is missing and where it was searched, so that each caller words its
    own advice: :meth:`advice` in Python's words (``root=``, ``download=False``), the command
    line in its flags (``--data-dir``, ``--no-download``).
    """

    def __init__(self, title, key, missing, searched, root_given, download, failure=""):
        self.title, self.key, self.missing = title, key, list(missing)
        self.searched, self.root_given = list(searched), root_given
        self.download, self.failure = download, failure
        super().__init__(self.advice("pass root=FOLDER", "download=False"))

    def advice(self, folder_option: str, no_download: str, sep: str = "\n") -> str:
        """The message, with ``folder_option`` as the way to name a folder and ``no_download``
        as the setting that turned downloading off; lines joined by ``sep``."""
        target = self.searched[0]
        where = f"{sep}  ".join(str(f) for f in self.searched)
        how = folder_option
        if not self.root_given:
            how += f", or set {ENV_VAR}=DIR to use DIR/{self.key}"
        lines = [
            f"{self.title} files not found: {', '.join(self.missing)} (each may end in .gz).",
            f"Searched:{sep}  {where}",
            f"Put the files in {target} (gzipped or not), or {how}.",
        ]
        if not self.download:
            lines.append(f"Downloading was off ({no_download}).")
        if self.failure:
            lines.append("Downloading failed: " + f"{sep}".join(self.failure.splitlines()))
        return sep.join(lines)


def _locate(
    spec: _Spec,
    parts: list[str],
    root,
    download: bool,
    mirrors,
    timeout: float,
    progress: bool,
    deadline: float = DEADLINE,
) -> dict[str, Path]:
    """Map each needed file stem to an existing path, downloading missing ones if allowed."""
    if root is not None:
        folders = [Path(os.fspath(root)).expanduser()]
    else:
        folders = [default_cache_dir() / spec.key] + SYSTEM_DIRS.get(spec.key, [])
    target = folders[0]
    stems = [stem for part in parts for stem in _FILES[part]]
    found: dict[str, Path] = {}
    missing: list[str] = []
    for stem in stems:
        path = _find(stem, folders)
        if path is None:
            missing.append(stem)
        else:
            found[stem] = path
    if not missing:
        return found

    failure = ""
    if download:
        urls = MIRRORS[spec.key] if mirrors is None else list(mirrors)
        try:
            for stem in missing:
                name = stem + ".gz"
                md5 = MD5[spec.key].get(name)
                found[stem] = download_file(name, target, urls, md5, timeout, progress, deadline)
            return found
        except DataError as exc:
            failure = str(exc)
    missing = [stem for stem in stems if stem not in found]
    raise MissingFilesError(spec.title, spec.key, missing, folders, root is not None, download, failure)


def _load_part(spec: _Spec, part: str, images_path: Path, labels_path: Path) -> Dataset:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected {spec.title} images of 28x28 unsigned bytes, i.e. shape "
            f"(N, 28, 28) uint8, got shape {images.shape} {images.dtype}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{labels_path}: expected {spec.title} labels as a 1-D array of unsigned bytes, "
            f"got shape {labels.shape} {labels.dtype}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{spec.title} {part} files disagree: {images_path} has {len(images)} images but "
            f"{labels_path} has {len(labels)} labels"
        )
    if len(images) == 0:
        raise DataError(
            f"{images_path}: holds 0 images (its header says so): a damaged or placeholder file; "
            "delete it and fetch it again"
        )
    if labels.max() >= len(spec.classes):
        raise DataError(f"{labels_path}: label {int(labels.max())} is outside 0..{len(spec.classes) - 1}")
    x = images.reshape(len(images), -1).astype(np.float32)
    x /= np.float32(255.0)
    return Dataset(
        x, labels.astype(np.int64), image_shape=(28, 28), classes=spec.classes, name=f"{spec.key}-{part}"
    )


def _load(spec: _Spec, root, download: bool, split, mirrors, timeout: float, progress: bool, deadline):
    parts = _check_split(split)
    paths = _locate(spec, parts, root, download, mirrors, timeout, progress, deadline)
    sets = [_load_part(spec, part, paths[_FILES[part][0]], paths[_FILES[part][1]]) for part in parts]
    return sets[0] if split is not None else tuple(sets)


def load_mnist(
    root=None,
    download: bool = True,
    split: str | None = None,
    *,
    mirrors: list[str] | None = None,
    timeout: float = TIMEOUT,
    progress: bool = True,
    deadline: float = DEADLINE,
):
    """Load MNIST handwritten digits: ``train, test = load_mnist()`` (60,000 and 10,000 samples).

    Each is a :class:`~microgradnet.data.Dataset` with ``x`` float32 of shape (N, 784)
    (pixels / 255, so in [0, 1]), ``y`` int64 of shape (N,) with digits 0..9,
    ``image_shape`` (28, 28) and ``classes`` "0".."9". ``split="train"`` or ``"test"``
    loads and returns only that one Dataset.

    Files are looked for (``name`` or ``name.gz``) in ``root`` if given, else in
    ``default_cache_dir()/mnist``. Missing ones are downloaded there when ``download`` is
    true, from ``mirrors`` (default: ``MIRRORS["mnist"]``) and checked against their MD5;
    a server silent for ``timeout`` seconds, or too slow to deliver a file within
    ``deadline`` seconds, is given up. A missing folder is created only when a file arrives.
    Files not found raise :class:`MissingFilesError` (a ``DataError``) saying where they were
    looked for.
    """
    return _load(_MNIST, root, download, split, mirrors, timeout, progress, deadline)


def load_fashion_mnist(
    root=None,
    download: bool = True,
    split: str | None = None,
    *,
    mirrors: list[str] | None = None,
    timeout: float = TIMEOUT,
    progress: bool = True,
    deadline: float = DEADLINE,
):
    """Load Fashion-MNIST clothing images: ``train, test = load_fashion_mnist()`` (60,000 / 10,000).

    Same layout as :func:`load_mnist` (``x`` float32 (N, 784) in [0, 1], ``y`` int64 (N,),
    ``image_shape`` (28, 28)); ``classes`` are "T-shirt/top", "Trouser", "Pullover",
    "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".

    Files are looked for in ``root`` if given, else in ``default_cache_dir()/fashion-mnist``
    and then ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``
    package). Missing ones are downloaded into the first folder when ``download`` is true.
    """
    return _load(_FASHION, root, download, split, mirrors, timeout, progress, deadline)
