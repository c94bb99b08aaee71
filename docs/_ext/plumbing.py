"""Keep the docs' build plumbing off the pages: a reader sees only code they would type.

The tutorial and how-to pages are notebooks run while the site is built, and the build
needs a little machinery of its own (where the data is, where extra files go). That
machinery lives in ``docs/conf.py``, in this folder, or in cells tagged ``remove-cell``;
it must never show up in a cell a reader sees. This module names what counts as plumbing
and checks both ends:

* ``visible_cells(text)`` finds the code cells of a MyST notebook whose input is shown
  (the unit tests scan the sources with it);
* as a Sphinx extension, it scans every rendered page's code-cell inputs when the build
  finishes and reports each hit as a warning (``-W`` turns it into an error);
* ``python docs/_ext/plumbing.py BUILD_DIR`` does the same scan on a built site (CI).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

# What no reader would type: the build's environment, the docs' own helpers, notebook
# magics and display calls that only dress a page, and the CLI run from inside Python.
PLUMBING = {
    "a docs-build variable": re.compile(r"MICROGRADNET_DOCS|MICROGRADNET_MNIST"),
    "the docs' data helper": re.compile(r"\btutorial_data\b|\bdocs_support\b"),
    "a Markdown(...) display of a note": re.compile(r"\bMarkdown\("),
    "the environment": re.compile(r"\bos\.environ\b|\bos\.chdir\b|\bsys\.path\b"),
    "the command line run from Python": re.compile(r"\bsubprocess\b"),
    "a notebook magic": re.compile(r"^\s*%(matplotlib|config)\b", re.M),
    "myst-nb's glue": re.compile(r"\bglue\("),
    "the source of the engine's internals": re.compile(r"\binspect\.getsource\b"),
}

HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}

_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def visible_cells(text: str) -> list[tuple[int, str]]:
    """``(line, source)`` of every ``{code-cell}`` of a MyST notebook whose input the page
    shows: all but those tagged ``remove-cell``, ``remove-input`` or ``hide-*``."""
    cells = []
    for m in _CELL.finditer(text):
        body = m.group(1)
        options, source = _split_options(body)
        tags = set(re.findall(r"[\w-]+", _tags_value(options)))
        if not tags & HIDDEN_TAGS:
            cells.append((text.count("\n", 0, m.start()) + 1, source))
    return cells


def _split_options(body: str) -> tuple[str, str]:
    """A cell's options (``:key: value`` lines, or a ``---`` YAML block) and its source."""
    lines = body.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        return "".join(lines[1:end]), "".join(lines[end + 1 :])
    n = 0
    while n < len(lines) and lines[n].startswith(":"):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


def _tags_value(options: str) -> str:
    m = re.search(r"^:?tags:?\s*(.*)$", options, re.M)
    return m.group(1) if m else ""


def plumbing_in(source: str) -> list[str]:
    """What kinds of plumbing ``source`` holds (empty when it reads as a reader's code)."""
    return [what for what, pattern in PLUMBING.items() if pattern.search(source)]


class _CellInputs(HTMLParser):
    """Collects the text of myst-nb's rendered cell inputs (``<div class="cell_input …">``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inputs: list[str] = []
        self._depth = 0  # nesting depth of <div> inside the current cell input, 0 = outside

    def handle_starttag(self, tag, attrs):
        if tag != "div":
            return
        if self._depth:
            self._depth += 1
        elif "cell_input" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.inputs.append("")

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.inputs[-1] += data


def rendered_cell_inputs(html: str) -> list[str]:
    """The code of every cell input shown on a page built by myst-nb."""
    parser = _CellInputs()
    parser.feed(html)
    return parser.inputs


def scan_site(outdir) -> list[str]:
    """One line per page and kind of plumbing found in the built site's shown cells."""
    problems = []
    for page in sorted(Path(outdir).rglob("*.html")):
        for code in rendered_cell_inputs(page.read_text(encoding="utf-8")):
            for what in plumbing_in(code):
                first = next((line for line in code.splitlines() if line.strip()), "")
                problems.append(
                    f"{page.relative_to(outdir)}: shows {what} in a code cell ({first.strip()!r} …)"
                )
    return problems


def _after_build(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    for problem in scan_site(app.outdir):
        log.warning(f"build plumbing on a page: {problem}; tag the cell remove-cell or move the code out")


def setup(app):
    app.connect("build-finished", _after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/_ext/plumbing.py BUILT_HTML_FOLDER")
    found = scan_site(sys.argv[1])
    print("\n".join(found) or f"no build plumbing in the pages of {sys.argv[1]}")
    sys.exit(1 if found else 0)
