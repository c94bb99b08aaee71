"""atomic_write: the whole new file or the old one, never half; nothing left on failure."""

import errno
import os
import stat
import subprocess
import sys
import time

import pytest

from microgradnet import atomic
from microgradnet.atomic import atomic_write, write_bytes


def test_success_replaces_the_file_with_normal_permissions(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    write_bytes(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_interrupt_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "x.txt", "w", encoding="utf-8") as f:
            f.write("partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        write_bytes(tmp_path / "nope" / "x.bin", b"")


# ============================================================================ never weaken the target


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_overwrite_keeps_the_targets_permissions(tmp_path, mode):
    target = tmp_path / "secret.npz"
    target.write_bytes(b"old")
    os.chmod(target, mode)
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_temp_file_of_a_private_target_is_never_readable_by_others(tmp_path, monkeypatch):
    target = tmp_path / "secret.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    seen = []
    with atomic_write(target) as f:
        f.write(b"new")
        seen += [stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p != target]
    assert seen == [0o600]


def test_a_new_file_gets_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640
    write_bytes(tmp_path / "other.bin", b"x")
    assert stat.S_IMODE((tmp_path / "other.bin").stat().st_mode) == 0o666 & ~_umask()


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "model.npz"
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("store", "model.npz"))  # a relative link
    write_bytes(link, b"new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "model.npz")
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["model.npz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.npz", "store"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.bin"
    link.symlink_to(tmp_path / "real.bin")
    write_bytes(link, b"data")
    assert link.is_symlink() and (tmp_path / "real.bin").read_bytes() == b"data"


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_bytes(tmp_path / "x.bin", b"data")
    assert len(synced) == 2
    assert stat.S_ISREG(synced[0].st_mode)  # the data first
    assert stat.S_ISDIR(synced[1].st_mode) and synced[1].st_ino == tmp_path.stat().st_ino


def test_a_folder_in_the_targets_place_is_named(tmp_path):
    (tmp_path / "out.npz").mkdir()
    with pytest.raises(IsADirectoryError) as e:
        write_bytes(tmp_path / "out.npz", b"x")
    assert e.value.filename == str(tmp_path / "out.npz")


# ============================================================================ errors name the target


def test_a_full_disk_names_the_target_not_the_temp_file(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    with pytest.raises(OSError) as e:
        with atomic_write(target) as f:
            f.write(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(target)
    assert ".tmp" not in str(e.value)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.npz"]


def test_a_failed_rename_names_the_target(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError) as e:
        write_bytes(tmp_path / "m.npz", b"x")
    monkeypatch.undo()
    assert e.value.filename == str(tmp_path / "m.npz") and e.value.filename2 is None
    assert ".tmp" not in str(e.value)
    assert os.listdir(tmp_path) == []


def test_other_errors_inside_the_block_pass_unchanged(tmp_path):
    cut = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    with pytest.raises(ConnectionResetError) as e:
        with atomic_write(tmp_path / "f.part") as f:
            f.write(b"x")
            raise cut
    assert e.value is cut


def test_a_real_file_size_limit_is_one_clear_error_naming_the_target(tmp_path):
    """A real write failure (no monkeypatching): RLIMIT_FSIZE makes write() fail with EFBIG,
    as a full disk makes it fail with ENOSPC."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from microgradnet.atomic import write_bytes\n"
        "try:\n"
        "    write_bytes(sys.argv[1], bytes(100000))\n"
        "except OSError as e:\n"
        "    print(e.errno, e.filename)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True)
    assert proc.stdout.split() == [str(errno.EFBIG), str(target)], proc.stderr
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["big.bin"]


# ============================================================================ a killed writer


_WRITER = """
import sys, time
from microgradnet.atomic import atomic_write
with atomic_write(sys.argv[1]) as f:
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(120)
"""


def _start_writer(target):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_live_writers_temp_file_is_left_alone_and_a_killed_ones_removed(tmp_path):
    target = tmp_path / "model.npz"
    writer = _start_writer(target)
    try:
        (mine,) = _temps(tmp_path)
        assert mine.startswith(f".model.npz.{writer.pid}.")
        write_bytes(target, b"ours")  # the other writer is alive: its file stays
        assert _temps(tmp_path) == [mine]
    finally:
        writer.kill()  # as kill -9: no chance to clean up
        writer.wait()
    assert _temps(tmp_path) == [mine]
    write_bytes(target, b"again")  # the next write of the same target removes it
    assert _temps(tmp_path) == [] and target.read_bytes() == b"again"


def test_only_recognised_temp_files_of_the_same_target_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = [
        f".model.npz.{dead.pid}.0123abcd.tmp",  # the same target, writer gone: removed
        f".other.npz.{dead.pid}.0123abcd.tmp",  # another target: kept
        f".model.npz.{dead.pid}.notours.tmp",  # not our naming: kept
        "model.npz.tmp",  # a user's file: kept
        ".model.npz.1.0123abcd.tmp",  # pid 1 runs and the file is recent: kept
    ]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    write_bytes(tmp_path / "model.npz", b"data")
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz"] + names[1:])
    # an unlocked temp file untouched for longer than STALE_AFTER is abandoned, whatever its pid
    old = time.time() - atomic.STALE_AFTER - 60
    os.utime(tmp_path / names[4], (old, old))
    write_bytes(tmp_path / "model.npz", b"data")
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz"] + names[1:4])
