"""One self-contained HTML page: the frame the stepper, the learning page and the digit page share.

A page is a single file that opens from disk with no network: its CSS and JavaScript are
inline, its numbers sit in a ``<script type="application/json">`` block, and a
Content-Security-Policy lets nothing else run or load (no requests at all; only the page's own
script, allowed by its hash; images only as ``data:`` URIs).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from ..atomic import write_bytes

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '@@SCRIPT_HASH@@'">
<title>@@TITLE@@</title>
<style>
@@CSS@@
</style>
</head>
<body@@BODY_ATTRS@@>
@@BODY@@
<script type="application/json" id="mg-data">@@DATA@@</script>
<script>@@JS@@</script>
</body>
</html>
"""


def asset(name: str) -> str:
    """The text of ``viz/assets/NAME`` (the pages' CSS and JavaScript)."""
    return resources.files(__package__).joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def fill(template: str, values: dict) -> str:
    """One pass of ``@@NAME@@`` substitution: text inserted for one name is never searched
    again (a tensor named ``@@DATA@@`` stays that text)."""
    return re.sub(r"@@([A-Z_]+)@@", lambda m: values[m.group(1)], template)


def json_for_html(obj) -> str:
    """JSON that can sit inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and
    the line separators are written as ``\\uXXXX`` escapes, so no ``</script>`` can appear."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def check_html_path(path, fn: str) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"{fn}: the page must be an .html file, got {path.name!r}")
    return path


def page_html(
    *, title: str, body: str, data: dict, css: list[str], js: list[str], body_attrs: dict | None = None
) -> str:
    """The page as HTML text. ``body`` is trusted markup (the page's fixed layout); everything
    that comes from the user (names, numbers) travels in ``data`` and reaches the page through
    ``textContent``. ``css`` and ``js`` name assets; the script runs by its hash alone."""
    script = "\n".join(asset(name) for name in js)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    attrs = "".join(f' {k}="{html.escape(str(v))}"' for k, v in (body_attrs or {}).items())
    return fill(
        _TEMPLATE,
        {
            "SCRIPT_HASH": f"sha256-{digest}",
            "TITLE": html.escape(title),
            "CSS": "\n".join(asset(name) for name in css),
            "BODY_ATTRS": attrs,
            "BODY": body,
            "DATA": json_for_html(data),
            "JS": script,
        },
    )


def write_page(path, *, title: str, body: str, data: dict, css: list[str], js: list[str], fn: str) -> Path:
    """Write the page (see :func:`page_html`) to ``path`` atomically and return the path."""
    path = check_html_path(path, fn)
    page = page_html(title=title, body=body, data=data, css=css, js=js)
    return write_bytes(path, page.encode("utf-8"))


def bytes_b64(a: np.ndarray) -> str:
    """An array of bytes (uint8 or int8) as base64 text for the page's JSON."""
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def pixels(images: np.ndarray) -> str:
    """Grey images with values in [0, 1] as base64 of one byte per pixel (0..255)."""
    return bytes_b64(np.round(np.clip(np.asarray(images, dtype=np.float64), 0, 1) * 255).astype(np.uint8))


def rounded(a, digits: int = 4):
    """Numbers as nested lists rounded to ``digits`` significant decimals (smaller pages)."""
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()
