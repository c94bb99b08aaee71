"""The package type-checks: ``mypy`` with the settings in pyproject.toml (CI runs it too, as
its own step). Here so that a change that breaks the types fails the test suite the way a
change that breaks the code does."""

import ast
import subprocess
import sys

from conftest import ROOT, require


def test_mypy_finds_no_errors_in_the_package():
    require("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, f"mypy (configured in pyproject.toml) reports:\n{proc.stdout}{proc.stderr}"


def test_the_lazy_viz_names_are_visible_to_type_checkers():
    """``mg.viz`` loads its names on first use (``_WHERE``); type checkers read the
    ``if TYPE_CHECKING:`` imports instead, which must name the same things from the same
    modules, or an editor would not know ``mg.viz.draw_graph``'s signature."""
    tree = ast.parse((ROOT / "microgradnet" / "viz" / "__init__.py").read_text(encoding="utf-8"))
    where = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "_WHERE"
    )
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    typed = {alias.name: imp.module for imp in block.body for alias in imp.names}
    assert typed == where
