"""The figure type every picture function returns: a matplotlib Figure that shows itself.

A plain :class:`matplotlib.figure.Figure` made without pyplot appears in Jupyter only as
the text ``<Figure size 640x480 with 1 Axes>`` unless ``%matplotlib inline`` was run
first. :class:`Picture` adds the one method IPython looks for, ``_repr_png_``, so a
picture returned by the last line of a cell is drawn as a PNG image with no magic, in
JupyterLab, in the classic notebook and in ``jupyter nbconvert --execute``. Pictures are
never registered with pyplot, so the inline backend cannot show them a second time.

Everything else is matplotlib's Figure: ``fig.savefig(...)``, ``fig.axes`` …; ``fig.save(path)``
writes the file atomically, the format from the suffix (see :func:`~microgradnet.viz.save_figure`).
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["Picture", "PNG_BUDGET"]

PNG_BUDGET = 100_000  # bytes of PNG a picture may take in a notebook before it is palettised


class Picture(Figure):
    """A matplotlib Figure that displays itself in Jupyter as a PNG image."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes: what IPython shows when the picture is a cell's result.

        A picture of thousands of translucent lines (``show_network``) makes a PNG of
        several hundred kilobytes, which bloats a saved notebook: past ``PNG_BUDGET`` bytes
        the image is stored with a palette of 256 colours instead, about a third the size
        and indistinguishable on screen."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", metadata={"Software": None})
        if buf.tell() <= PNG_BUDGET:
            return buf.getvalue()
        from PIL import Image  # matplotlib's own dependency

        buf.seek(0)
        small = io.BytesIO()
        Image.open(buf).convert("RGB").quantize(256).save(small, format="PNG", optimize=True)
        return small.getvalue() if small.tell() < buf.getbuffer().nbytes else buf.getvalue()

    def save(self, path, dpi: float | None = None):
        """Write the picture to ``path`` (``.png``, ``.svg`` or ``.pdf``) atomically; returns
        the path."""
        from .pictures import save_figure

        return save_figure(self, path, dpi=dpi)
