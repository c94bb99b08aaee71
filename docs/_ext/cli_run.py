"""A Sphinx directive that runs ``microgradnet`` commands while the site is built and shows
them as a shell session, so that a page teaching the command line shows exactly what a
reader types and what they get back:

    ```{microgradnet-run}
    microgradnet train --epochs 5 --quiet --out model.npz
    microgradnet evaluate model.npz
    ```

renders as ``$ microgradnet train …`` followed by its output, and so on. The commands of
one page run one after the other in a scratch folder of that page (files written by one
are there for the next); a command that fails fails the build, with its error.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
_folders: dict[str, str] = {}  # docname -> its scratch folder


class MicrogradnetRun(SphinxDirective):
    has_content = True

    def run(self):
        folder = _folders.setdefault(self.env.docname, tempfile.mkdtemp(prefix="microgradnet-docs-"))
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        )
        env.pop("MPLBACKEND", None)  # the command line writes files; no inline backend
        session = []
        for line in (line.strip() for line in self.content):
            if not line:
                continue
            words = shlex.split(line)
            if words[0] != "microgradnet":
                raise self.error(f"microgradnet-run runs microgradnet commands only, got {line!r}")
            done = subprocess.run(
                [sys.executable, "-m", "microgradnet", *words[1:]],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                raise self.error(f"{line!r} failed (exit {done.returncode}):\n{done.stderr or done.stdout}")
            session.append(f"$ {line}\n{done.stdout}{done.stderr}".rstrip())
        text = "\n".join(session)
        block = nodes.literal_block(text, text, language="console")
        return [block]


def setup(app):
    app.add_directive("microgradnet-run", MicrogradnetRun)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
