"""Progress of long loops, in one place: for a terminal, for a notebook, and nowhere else.

* **A terminal** (stderr is a tty): a bar redrawn in place on stderr — tqdm's when tqdm is
  installed, else a plain one — that disappears when its loop ends.
* **A Jupyter notebook** (an IPython kernel): one output area, updated in place through a
  display handle. No carriage returns are written, so a saved notebook, or one run by
  ``jupyter nbconvert --execute``, keeps the final text instead of hundreds of redraws.
* **Anywhere else** (a log file, a pipe, the tests): nothing, so logs stay clean.

:class:`Progress` follows a training run: a bar within each epoch and, when the epoch ends,
one line about it that stays (``fit`` and ``microgradnet train`` use it).
:func:`progress` wraps any single loop.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Any

__all__ = ["Progress", "progress", "where", "bar_text"]

EIGHTHS = " ▏▎▍▌▋▊▉█"
NOTEBOOK_EVERY = 0.2  # seconds between redraws of a notebook's output area
TERMINAL_EVERY = 0.1  # seconds between redraws of the plain terminal bar


def where() -> str | None:
    """Where progress can be shown: ``"notebook"`` inside an IPython kernel (Jupyter),
    ``"terminal"`` when stderr is a terminal, else None."""
    ipython = sys.modules.get("IPython")  # only loaded if we run inside IPython
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return "notebook"
    if getattr(sys.stderr, "isatty", lambda: False)():
        return "terminal"
    return None


def bar_text(
    n: int, total: int | None, seconds: float, desc: str = "", note: str = "", width: int = 24
) -> str:
    """``epoch 3/10  42% |██████████▏             | 60/144 [1.2s<1.6s] cost=0.0412``: the bar
    drawn with eighth blocks, the count, the time so far and the time left."""
    if total:
        frac = min(n / total, 1.0)
        eighths = int(frac * width * 8)
        bar = "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
        left = seconds / frac - seconds if frac else 0.0
        text = f"{desc} {frac:4.0%} |{bar.ljust(width)}| {n}/{total} [{seconds:.1f}s<{left:.1f}s]"
    else:
        text = f"{desc} {n} [{seconds:.1f}s]"
    return f"{text} {note}".strip()


def _columns(file) -> int:
    """The terminal's width, or 0 if it does not say (a pseudo-terminal may report 0)."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


class _Bar:
    """A bar over ``iterable``: ``_draw(n, seconds)`` at the start and then at most every
    ``every`` seconds, ``_end(n, seconds)`` once when the loop ends (or breaks off)."""

    every = TERMINAL_EVERY

    def __init__(self, iterable, total, desc):
        self.iterable, self.total, self.desc = iterable, total, desc
        self.note = ""

    def _draw(self, n, seconds):  # pragma: no cover - each bar draws its own way
        raise NotImplementedError

    def _end(self, n, seconds):  # pragma: no cover
        raise NotImplementedError

    def __iter__(self):
        start = last = time.perf_counter()
        n = 0
        self._draw(0, 0.0)
        try:
            for item in self.iterable:
                yield item
                n += 1
                now = time.perf_counter()
                if now - last >= self.every:
                    last = now
                    self._draw(n, now - start)
        finally:
            self._end(n, time.perf_counter() - start)

    def set_postfix_str(self, s, refresh=False):
        self.note = s


class _PlainBar(_Bar):
    """A terminal bar without tqdm: :func:`bar_text` redrawn on one line of ``file``."""

    def __init__(self, iterable, total, desc, file):
        super().__init__(iterable, total, desc)
        self.file = file
        self.width = min(_columns(file) or shutil.get_terminal_size().columns, 150) - 1

    def _draw(self, n, seconds):
        line = bar_text(n, self.total, seconds, self.desc, self.note)
        self.file.write("\r" + line[: self.width].ljust(self.width))
        self.file.flush()

    def _end(self, n, seconds):
        self.file.write("\r" + " " * self.width + "\r")  # the bar goes; the next line is clean
        self.file.flush()


def _terminal_bar(iterable, total, desc):
    file = sys.stderr
    try:
        from tqdm import tqdm  # optional: pip install "microgradnet[progress]"
    except ImportError:
        return _PlainBar(iterable, total, desc, file)
    width = {"dynamic_ncols": True} if _columns(file) else {"ncols": 80}
    return tqdm(iterable, total=total, desc=desc, file=file, leave=False, **width)


class _NotebookArea:
    """One output area of a notebook cell, shown on first use and then replaced in place:
    finished ``lines`` that stay, and the ``current`` bar below them."""

    def __init__(self):
        self.lines: list[str] = []
        self.current = ""
        self.handle = None

    def show(self):
        from IPython.display import display

        text = "\n".join(self.lines + ([self.current] if self.current else []))
        bundle = {"text/plain": text}
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)


class _NotebookBar(_Bar):
    """A bar drawn as the last line of a :class:`_NotebookArea`, redrawn a few times a
    second; at the end it stays (``keep``, showing the final count) or goes."""

    every = NOTEBOOK_EVERY

    def __init__(self, iterable, total, desc, area, keep):
        super().__init__(iterable, total, desc)
        self.area, self.keep = area, keep

    def _draw(self, n, seconds):
        self.area.current = bar_text(n, self.total, seconds, self.desc, self.note)
        self.area.show()

    def _end(self, n, seconds):
        self.area.current = ""
        if self.keep:
            self.area.lines.append(bar_text(n, self.total, seconds, self.desc, self.note))
        self.area.show()


def _length(iterable, total):
    if total is not None:
        return total
    return len(iterable) if hasattr(iterable, "__len__") else None


def progress(iterable, total=None, desc="", disable=False):
    """Wrap ``iterable`` in a progress bar: in a terminal (tqdm if installed), or in a
    notebook (an output area that keeps the final count); elsewhere ``iterable`` itself."""
    place = None if disable else where()
    if place == "terminal":
        return _terminal_bar(iterable, _length(iterable, total), desc)
    if place == "notebook":
        return _NotebookBar(iterable, _length(iterable, total), desc, _NotebookArea(), keep=True)
    return iterable


class Progress:
    """The progress of a training run: a bar within each epoch (:meth:`each`), then one
    line per finished epoch (:meth:`end_epoch`) that stays on the screen.

    ``lines=False`` shows only the bars (for a caller that prints its own epoch lines, as
    ``microgradnet train`` does). ``enabled=False``, or a place that is neither a terminal
    nor a notebook, shows nothing and costs nothing.
    """

    def __init__(self, enabled: bool = True, lines: bool = True):
        self.place = where() if enabled else None
        self.lines = lines
        self._area = _NotebookArea() if self.place == "notebook" else None
        self._bar: Any = None  # tqdm's bar, the plain one, or the notebook's

    def each(self, iterable, total=None, desc=""):
        """``iterable`` with a bar that lasts while it runs."""
        if self.place is None:
            return iterable
        total = _length(iterable, total)
        if self.place == "terminal":
            self._bar = _terminal_bar(iterable, total, desc)
        else:
            self._bar = _NotebookBar(iterable, total, desc, self._area, keep=False)
        return self._bar

    def note(self, text: str) -> None:
        """Show ``text`` (e.g. ``cost=0.0412``) after the current bar."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def end_epoch(self, line: str) -> None:
        """The epoch is over: its bar makes way for ``line``."""
        self._bar = None
        if not self.lines or self.place is None:
            return
        if self.place == "terminal":
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        elif self._area is not None:
            self._area.lines.append(line)
            self._area.show()
