"""Build microgradnet's wheel and sdist, check them, and run the wheel as a user would.

An editable install (``pip install -e .``) reads the checkout, so it hides a data file the
wheel forgot. This script does what a user of the published package does instead:

1. ``python -m build``: the sdist, then the wheel built *from that sdist*;
2. ``twine check --strict`` on both (the README renders on the package index);
3. the wheel holds every tracked file of ``microgradnet/`` (the embedded digits, the
   stepper's CSS and JavaScript, ``py.typed`` …) and the sdist every tracked file of the
   repository except the CI and git plumbing;
4. a fresh virtual environment, outside the checkout, gets the wheel (not editable) and
   runs the quick start ``microgradnet train``, ``microgradnet graph``,
   ``microgradnet explain`` and an import test of every module, from a folder that has
   nothing of the checkout in it.

Usage:
    python scripts/check_package.py [--work DIR] [--keep]

Needs ``build`` and ``twine`` (``pip install build twine``), git, network access to the
package index for the wheel's dependencies, and Graphviz's ``dot`` for ``graph``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Tracked files that only matter inside the repository: they stay out of the sdist.
NOT_IN_SDIST = (".ci/", ".gitignore", ".pre-commit-config.yaml")

# Run inside the fresh environment, from a folder outside the checkout.
IMPORT_TEST = r"""
import importlib, importlib.metadata, importlib.resources, pkgutil, re, sys
from pathlib import Path

import microgradnet as mg

checkout = Path(sys.argv[1]).resolve()
where = Path(mg.__file__).resolve()
assert checkout not in where.parents, f"imported the checkout ({where}), not the wheel"
assert mg.__version__ == importlib.metadata.version("microgradnet"), (
    mg.__version__, importlib.metadata.version("microgradnet"))
modules = [m.name for m in pkgutil.walk_packages(mg.__path__, "microgradnet.")
           if m.name != "microgradnet.__main__"]  # that one runs the command line
# A module may need an optional extra (the lab's server needs starlette): that is no defect,
# but a missing module the metadata does not declare as an extra's requirement is.
optional = set()
for req in importlib.metadata.requires("microgradnet") or []:
    if "extra ==" in req:
        dist = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower().replace("-", "_")
        optional.add({"scikit_learn": "sklearn", "pillow": "PIL"}.get(dist, dist))
needs_extra = []
for name in modules:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in optional:
            raise
        needs_extra.append(f"{name} ({e.name})")
files = importlib.resources.files("microgradnet")
for data in ["py.typed", "datasets/files/digits.npz", "datasets/files/DIGITS-LICENSE.txt",
             "viz/assets/stepper.css", "viz/assets/stepper.js"]:
    assert files.joinpath(data).is_file(), f"{data} is missing from the wheel"
train, test = mg.datasets.load_digits()
assert (len(train), len(test)) == (1437, 360) and train.x.shape[1] == 64
print(f"import test: microgradnet {mg.__version__} from {where.parent}, {len(modules)} modules; "
      f"without their optional extra: {', '.join(needs_extra) or 'none'}")
"""


def run(cmd, cwd=None, env=None, shown=None) -> str:
    """Run ``cmd`` (echoed as ``shown``); on failure print its output and stop."""
    shown = shown or " ".join(str(c) for c in cmd)
    print(f"$ {shown}", flush=True)
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"check_package: failed ({proc.returncode}): {shown}")
    return proc.stdout


def tracked_files() -> list[str]:
    out = run(["git", "-C", ROOT, "ls-files"])
    return [line for line in out.splitlines() if line]


def check_contents(wheel: Path, sdist: Path) -> None:
    """Every tracked package file is in the wheel, every tracked file (bar plumbing) in the sdist."""
    tracked = tracked_files()
    with zipfile.ZipFile(wheel) as z:
        in_wheel = set(z.namelist())
    missing = [f for f in tracked if f.startswith("microgradnet/") and f not in in_wheel]
    with tarfile.open(sdist) as t:
        top = sdist.name.removesuffix(".tar.gz")
        in_sdist = {m.name.removeprefix(f"{top}/") for m in t.getmembers()}
    missing += [f"{sdist.name}: {f}" for f in tracked if not f.startswith(NOT_IN_SDIST) and f not in in_sdist]
    if missing:
        raise SystemExit("check_package: files left out of the distributions:\n  " + "\n  ".join(missing))
    print(
        f"contents: the wheel holds all {sum(f.startswith('microgradnet/') for f in tracked)} package files, "
        f"the sdist all {sum(not f.startswith(NOT_IN_SDIST) for f in tracked)} source files"
    )


def check_installed(wheel: Path, work: Path) -> None:
    """Install the wheel into a fresh venv and use it from a folder outside the checkout."""
    venv = work / "venv"
    run([sys.executable, "-m", "venv", venv])
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python, cli = bindir / "python", bindir / "microgradnet"
    run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([python, "-m", "pip", "install", "-q", wheel])
    here = work / "user"
    here.mkdir()
    # Only the venv's own programs and the system's (for dot): no PYTHONPATH into the checkout.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])

    version = run([cli, "--version"], cwd=here, env=env).strip()
    print(f"  {version}")
    out = run([cli, "train"], cwd=here, env=env)  # the quick start, as the README writes it
    last = out.strip().splitlines()[-1]
    print(f"  train: {last}")
    if "test accuracy" not in last:
        raise SystemExit(f"check_package: unexpected output of microgradnet train:\n{out}")
    run([cli, "graph", "--grads", "--out", "step.svg"], cwd=here, env=env)
    run([cli, "explain", "--out", "backprop.html"], cwd=here, env=env)
    for name, start in [("step.svg", "<"), ("backprop.html", "<!")]:
        text = (here / name).read_text(encoding="utf-8")
        if not text.lstrip().startswith(start) or len(text) < 1000:
            raise SystemExit(f"check_package: {name} written by the wheel's CLI looks wrong")
        print(f"  {name}: {len(text) / 1024:.0f} KiB")
    print(
        "  "
        + run([python, "-c", IMPORT_TEST, ROOT], cwd=here, env=env, shown="python -c IMPORT_TEST").strip()
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--work", type=Path, help="working folder, outside the checkout (default: a temporary one)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the working folder")
    args = ap.parse_args(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="microgradnet-package-"))).resolve()
    if work == ROOT or ROOT in work.parents:
        ap.error(f"--work must be outside the checkout ({ROOT})")
    work.mkdir(parents=True, exist_ok=True)
    try:
        # Build from a copy of the tracked files (as they are in the working tree): nothing
        # untracked slips into the sdist, and the checkout gets no build/ or egg-info.
        src = work / "src"
        for name in tracked_files():
            if (ROOT / name).is_file():
                (src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, src / name)
        dist = work / "dist"
        run([sys.executable, "-m", "build", "--outdir", dist, src])
        (wheel,) = dist.glob("microgradnet-*.whl")
        (sdist,) = dist.glob("microgradnet-*.tar.gz")
        print(f"built {wheel.name} and {sdist.name}")
        run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist])
        check_contents(wheel, sdist)
        check_installed(wheel, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("package: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
