"""Write a file all at once: a reader sees the old file or the whole new one, never half.

Every file microgradnet writes (models, exports, pictures, pages, IDX files, downloads) goes
through :func:`atomic_write`: the bytes go to a temporary file in the same folder, which is
renamed over the target only when writing succeeded, and the folder is synced so the rename
survives a power cut. On any failure, an interrupt included, the temporary file is removed
and the target is left as it was. What is on disk is never weakened:

* an existing target keeps its permission bits (a private ``0600`` file stays private) and,
  where the system allows, its owner and group; a new file gets the usual ``0666`` minus the
  umask;
* a symbolic link is written through: its target gets the new contents, the link stays;
* errors name the file being written, never the temporary file.

A writer killed outright (``kill -9``, a power cut) cannot remove its temporary file. Such
files are named ``.TARGET.PID.RANDOM.tmp`` and the next write of the same target removes
them, but only when their writer is certainly gone: no process holds the lock every writer
keeps on its temporary file, and the process ``PID`` no longer runs (or the file has not
changed for :data:`STALE_AFTER` seconds). A live writer's file is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import re
import secrets
import stat
import time
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None  # the lock that tells a live writer from a dead one; POSIX only
try:
    fcntl = importlib.import_module("fcntl")
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: A temporary file whose writer process still exists is removed only after this many
#: seconds without a change (its PID may have been reused by another program).
STALE_AFTER = 24 * 3600.0

_NAME_ROOM = 200  # keep ".NAME.PID.RANDOM.tmp" under the 255-byte limit of most file systems
# Errors of writing itself, raised without a file name (f.write, f.flush, os.fsync).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _resolve(path: Path) -> Path:
    """The file to replace: ``path`` itself, or the final target when it is a symbolic link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _temp_pattern(name: str, suffix: str) -> re.Pattern:
    return re.compile(re.escape(f".{name[:_NAME_ROOM]}.") + r"(\d+)\.[0-9a-f]{8}" + re.escape(suffix))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it belongs to someone else
        return True
    except (OSError, OverflowError):
        return False
    return True


def _remove_abandoned(folder: Path, name: str, suffix: str) -> None:
    """Remove temporary files of ``name`` whose writer is gone (see the module docstring)."""
    if fcntl is None:
        return  # without the lock a live writer cannot be told apart: leave them
    pattern = _temp_pattern(name, suffix)
    try:
        entries = [(e, m) for e in os.scandir(folder) if (m := pattern.fullmatch(e.name))]
    except OSError:
        return
    for entry, match in entries:
        pid = int(match.group(1))
        if pid == os.getpid():
            continue  # this process's own writer (another thread): alive by definition
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer holds the lock: alive
            recent = time.time() - info.st_mtime < STALE_AFTER
            if recent and _process_exists(pid):
                continue  # unlocked, but its process runs: perhaps between creating and locking
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
        finally:
            os.close(fd)


def _create_temp(folder: Path, name: str, suffix: str, private: bool) -> tuple[int, Path]:
    """A new temporary file beside the target, opened for writing and locked."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
    # A new target gets 0666 minus the umask from the system itself; over an existing file
    # the temporary one stays private until it takes the target's mode just before the rename.
    perms = 0o600 if private else 0o666
    while True:
        tmp = folder / f".{name[:_NAME_ROOM]}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(tmp, flags, perms)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, tmp


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable. Some file systems cannot sync a folder: the file is written
    all the same, so a failure here is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _naming_target(exc: OSError, tmp: Path, shown: Path) -> OSError:
    """``exc`` as it concerns the target: the temporary file's name replaced by ``shown``."""
    names = {str(tmp), os.fspath(tmp)}
    about_tmp = exc.filename in names or exc.filename2 in names
    if not about_tmp and not (exc.filename is None and exc.errno in _WRITE_ERRNOS):
        return exc  # not a writing error (e.g. the network, while a download streams in)
    return OSError(exc.errno, exc.strerror or str(exc), str(shown))  # the errno picks the subclass


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, encoding: str | None = None, suffix: str = ".tmp"):
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces ``path``.

    ``mode`` is ``"wb"`` (bytes) or ``"w"`` (text, with ``encoding``). The target keeps its
    permissions, a symbolic link is written through, and the folder is synced after the
    rename. A missing folder is a clear ``FileNotFoundError`` naming it, a folder in the
    target's place an ``IsADirectoryError``; any other ``OSError`` names ``path``.
    """
    shown = Path(path)
    target = _resolve(shown)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"the folder {folder} does not exist", str(shown))
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(shown)) from None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(shown))
    keep = old is not None and stat.S_ISREG(old.st_mode)
    _remove_abandoned(folder, target.name, suffix)
    try:
        fd, tmp = _create_temp(folder, target.name, suffix, private=keep)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(shown)) from None
    lock = os.dup(fd)  # holds the lock until the rename is done, after the file is closed
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            if keep and old is not None:
                if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(OSError):  # only root may give a file away
                        os.fchown(f.fileno(), old.st_uid, old.st_gid)
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            renamed = _naming_target(exc, tmp, shown)
            if renamed is not exc:
                raise renamed from None
        raise
    finally:
        os.close(lock)
    _fsync_folder(folder)


def write_bytes(path, data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_write(path) as f:
        f.write(data)
    return Path(path)
