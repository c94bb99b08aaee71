"""Open a file for reading only when it is one: a regular file, with errors that name it.

Reading a model or a dataset from a named pipe (FIFO), a terminal or a device would wait
forever or never end (``/dev/zero``), so :func:`open_regular` refuses them before reading a
byte. The file is opened without blocking and then checked with ``fstat``, so the check and
the read concern the same file. "Permission denied" stays a :class:`PermissionError`: the
fix is the file's permissions, not the file's contents.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
]


def open_regular(path, error=ValueError, what: str = "file"):
    """Open ``path`` to read its bytes, refusing anything that is not a regular file.

    A missing file, a folder, a FIFO, a device or a socket raise ``error(message)`` with a
    message naming ``path`` and saying what it is instead of ``what`` (e.g. "model file").
    A file the user may not read raises :class:`PermissionError` naming ``path``. Returns
    an open binary file (a context manager).
    """
    path = Path(os.fspath(path))
    a_what = f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not {a_what}") from None
    except PermissionError as exc:
        raise PermissionError(exc.errno, f"{exc.strerror} (cannot read this {what})", str(path)) from None
    except OSError as exc:  # ENXIO: a socket, or a FIFO without a writer; ELOOP, ENAMETOOLONG ...
        if exc.errno == errno.ENXIO:
            raise error(f"{path}: is not a regular file, so not {a_what}") from None
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "something other than a regular file")
            raise error(f"{path}: is {kind}, not {a_what}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
