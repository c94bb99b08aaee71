"""Training progress: a bar within each epoch on a terminal (tqdm or the plain one), one line
per finished epoch, and nothing at all when the output is not a terminal.

The notebook side (an output area updated in place, no carriage returns) runs in a real
kernel in tests/test_notebook.py.
"""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest
from conftest import ROOT

import microgradnet as mg
from microgradnet.progress import Progress, bar_text, progress, where

TRAIN = ["-m", "microgradnet", "train", "--epochs", "2", "--batch-size", "2"]
NO_TQDM = (
    "import sys; sys.modules['tqdm'] = None; from microgradnet.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")


def _in_terminal(args, columns=100) -> str:
    """Run ``python args`` with stdin, stdout and stderr on a pseudo-terminal of ``columns``
    columns (0: one that does not say its width); everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, *args], stdin=slave, stdout=slave, stderr=slave, env=_env(), close_fds=True
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0, out.decode(errors="replace")[-2000:]
    return out.decode("utf-8", errors="replace")


def _epoch_lines(text):
    return [line.strip("\r") for line in text.splitlines() if line.strip("\r ").startswith("epoch ")]


@pytest.mark.parametrize("columns", [100, 0])
def test_train_on_a_terminal_shows_tqdm_bars_within_each_epoch(columns):
    out = _in_terminal(TRAIN, columns)
    # tqdm draws "epoch 1/2:  37%|███▋      | 265/719 [...]" with carriage returns
    assert "\repoch 1/2:" in out and "\repoch 2/2:" in out
    assert "%|" in out and "/719" in out  # (the cost note: in-process below, an epoch may end first)
    # the bar goes away and the epoch's own line stays, once per epoch
    finished = [line for line in _epoch_lines(out) if "test accuracy" in line]
    assert [line.split()[1] for line in finished] == ["1/2", "2/2"], finished
    assert "test accuracy" in out.splitlines()[-1]


def test_train_without_tqdm_draws_the_plain_bar():
    out = _in_terminal(["-c", NO_TQDM, *TRAIN[2:]])
    assert "\repoch 1/2" in out and "|" in out and "/719 [" in out
    finished = [line for line in _epoch_lines(out) if "test accuracy" in line]
    assert len(finished) == 2


@pytest.mark.parametrize("argv", [TRAIN, ["-c", NO_TQDM, *TRAIN[2:]]])
def test_no_bar_when_not_a_terminal(argv):
    proc = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=_env(), timeout=120, check=True
    )
    assert "\r" not in proc.stdout + proc.stderr
    assert proc.stderr == ""
    lines = _epoch_lines(proc.stdout)
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]  # the log keeps its epoch lines


def test_quiet_train_prints_no_epoch_lines():
    proc = subprocess.run(
        [sys.executable, *TRAIN, "--quiet"], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert proc.returncode == 0 and _epoch_lines(proc.stdout) == []


def test_fit_in_a_terminal_keeps_one_line_per_epoch():
    code = (
        "import microgradnet as mg; train, test = mg.datasets.load_digits(); "
        "mg.fit(mg.nn.MLP([64, 16, 10], seed=0), train, epochs=3, batch_size=4, test=test)"
    )
    out = _in_terminal(["-c", code])
    assert "\repoch 1/3:" in out  # the bar within the epoch
    lines = [line for line in _epoch_lines(out) if "(" in line]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("cost" in line and "test accuracy" in line for line in lines)


def test_nothing_is_shown_when_not_in_a_terminal_or_notebook(capsys):
    assert where() is None  # pytest captures stderr: not a terminal
    items = [1, 2, 3]
    assert progress(items) is items
    shown = Progress()
    assert shown.each(items) is items
    shown.note("cost=1")
    shown.end_epoch("epoch 1/1")
    train, _ = mg.datasets.load_digits()
    mg.fit(mg.nn.MLP([64, 10], seed=0), train[:50], epochs=2)
    assert capsys.readouterr() == ("", "")


def test_bar_text():
    assert bar_text(0, 8, 0.0, "epoch 1/3") == "epoch 1/3   0% |                        | 0/8 [0.0s<0.0s]"
    half = bar_text(4, 8, 2.0, "epoch 1/3", "cost=0.5")
    assert half == "epoch 1/3  50% |████████████            | 4/8 [2.0s<2.0s] cost=0.5"
    assert "|▌   |" in bar_text(1, 8, 1.0, width=4)  # eighth blocks: 1/8 of 4 cells is half a cell
    assert bar_text(5, None, 1.5, "steps") == "steps 5 [1.5s]"


def test_the_tqdm_bar_shows_the_cost_note(monkeypatch):
    import io
    import time

    from microgradnet import progress

    def slow():
        for k in range(6):
            time.sleep(0.05)
            yield k

    out = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", out)
    shown = progress.Progress(enabled=True, lines=False)
    shown.place = "terminal"  # as on a terminal (a StringIO is none)
    for k in shown.each(slow(), total=6, desc="epoch 1/1"):
        shown.note(f"cost={k / 10:.4f}")
    text = out.getvalue()
    assert "epoch 1/1:" in text and "%|" in text and "cost=0." in text


def test_the_plain_bar_redraws_in_place_and_clears_its_line():
    import io
    import time

    from microgradnet.progress import _PlainBar

    def slow():
        for k in range(6):
            time.sleep(0.05)
            yield k

    out = io.StringIO()
    bar = _PlainBar(slow(), 6, "epoch 1/1", out)
    bar.set_postfix_str("cost=0.5")
    assert list(bar) == list(range(6))
    text = out.getvalue()
    draws = text.split("\r")[1:-2]  # the last two: the blank line that clears, the line start
    assert len(draws) >= 3 and "\n" not in text
    assert draws[0].startswith("epoch 1/1   0% |") and "█" in draws[-1] and "cost=0.5" in draws[-1]
    assert text.endswith("\r" + " " * bar.width + "\r")
