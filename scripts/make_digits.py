"""Build microgradnet/datasets/files/digits.npz from scikit-learn's copy of the UCI digits.

Provenance of the bundled "digits" dataset. The source is the test set ("optdigits.tes",
1,797 samples) of the UCI ML repository's "Optical Recognition of Handwritten Digits"
(E. Alpaydin & C. Kaynak, 1998, CC BY 4.0), in the form scikit-learn distributes it:
``sklearn/datasets/data/digits.csv.gz``, one sample per line, 64 pixel counts 0..16
(an 8x8 image, row by row) followed by the class label 0..9.

scikit-learn is only needed to run this script (``pip install scikit-learn``); the
package itself never imports it. The values are not changed, only stored as uint8:

* ``images``: uint8, shape (1797, 8, 8), values 0..16, in the order of the CSV;
* ``labels``: uint8, shape (1797,), values 0..9.

The .npz is written with fixed zip timestamps, so running the script again gives the
same bytes. Usage: ``python scripts/make_digits.py [OUTPUT.npz]``.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "microgradnet" / "datasets" / "files" / "digits.npz"


def read_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """Read scikit-learn's digits.csv.gz: (images uint8 (1797, 8, 8), labels uint8 (1797,))."""
    try:
        source = resources.files("sklearn.datasets.data").joinpath("digits.csv.gz")
    except ModuleNotFoundError:
        sys.exit("scikit-learn is not installed: run `pip install scikit-learn` first")
    with resources.as_file(source) as csv_path:
        table = np.loadtxt(csv_path, delimiter=",", dtype=np.int64)
        print(f"read {csv_path} ({csv_path.stat().st_size} bytes)")
    if table.shape != (1797, 65):
        sys.exit(f"unexpected table shape {table.shape}, expected (1797, 65)")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16:
        sys.exit(f"pixel values outside 0..16: {pixels.min()}..{pixels.max()}")
    if labels.min() < 0 or labels.max() > 9:
        sys.exit(f"labels outside 0..9: {labels.min()}..{labels.max()}")
    return pixels.reshape(-1, 8, 8).astype(np.uint8), labels.astype(np.uint8)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a compressed .npz (what np.load reads) with fixed timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    images, labels = read_sklearn_digits()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(out, {"images": images, "labels": labels})
    data = out.read_bytes()
    print(f"wrote {out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print(
        f"images {images.shape} {images.dtype}, labels {labels.shape} {labels.dtype}, "
        f"per-class counts {np.bincount(labels).tolist()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
