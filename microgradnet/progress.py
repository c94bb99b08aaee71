"""A small progress bar for long loops: tqdm when it is installed, a plain one otherwise."""

from __future__ import annotations

import sys
import time


class _PlainBar:
    """Redraws ``desc  40% |████      | 24/60 [00:03<00:04] cost=0.12`` on one line of stderr
    (only on a terminal; elsewhere it prints nothing and leaves logs clean)."""

    def __init__(self, iterable, total=None, desc="", file=None, disable=False, **_):
        self.iterable = iterable
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.desc = desc
        self.file = file or sys.stderr
        self.disable = disable or not getattr(self.file, "isatty", lambda: False)()
        self.n = 0
        self.postfix = ""
        self.start = time.perf_counter()
        self._last = 0.0

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.n += 1
            now = time.perf_counter()
            if now - self._last > 0.1 or self.n == self.total:
                self._last = now
                self._draw(now)
        self.close()

    def set_postfix_str(self, s, refresh=False):
        self.postfix = s

    def _draw(self, now):
        if self.disable:
            return
        elapsed = now - self.start
        if self.total:
            frac = self.n / self.total
            fill = int(20 * frac)
            eta = elapsed / frac - elapsed if frac else 0
            line = (
                f"{self.desc} {frac:4.0%} |{'█' * fill}{' ' * (20 - fill)}| {self.n}/{self.total} "
                f"[{elapsed:4.1f}s<{eta:4.1f}s] {self.postfix}"
            )
        else:
            line = f"{self.desc} {self.n} [{elapsed:4.1f}s] {self.postfix}"
        self.file.write("\r" + line[:150].ljust(80))
        self.file.flush()

    def close(self):
        if not self.disable and self.n:
            self.file.write("\n")
            self.file.flush()
        self.disable = True


def progress(iterable, total=None, desc="", disable=False):
    """Wrap ``iterable`` in a progress bar (tqdm if available). Only on a terminal: in logs
    and pipes the bar would be noise."""
    if disable or not getattr(sys.stderr, "isatty", lambda: False)():
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return _PlainBar(iterable, total=total, desc=desc, disable=disable)
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True)
