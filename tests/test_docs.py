"""The docs and README show a reader only what a reader would type, and say how to save
what they draw. (Building the site is too slow for this suite: these checks read the
sources; the build itself scans the rendered pages with the same patterns.)"""

import re
import sys

import pytest
from conftest import ROOT, require_mnist

import microgradnet as mg

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import docs_data  # noqa: E402
import plumbing  # noqa: E402

NOTEBOOKS = sorted(
    p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts and p.read_text().count("{code-cell}")
)
TUTORIAL = sorted((ROOT / "docs" / "tutorial").glob("*.md"))
WIDTH = 86  # characters of code that fit the docs' column without a scrollbar


def test_the_notebook_pages_are_found():
    names = {p.name for p in NOTEBOOKS}
    assert {"1-neural-network.md", "4-backprop-calculus.md", "render-graph.md"} <= names


@pytest.mark.parametrize("page", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_no_visible_cell_holds_build_plumbing(page):
    found = []
    for line, source in plumbing.visible_cells(page.read_text(encoding="utf-8")):
        kinds = plumbing.plumbing_in(source)
        if kinds:
            found.append(f"line {line}: {', '.join(kinds)}")
    assert not found, f"{page.name} shows build plumbing: {found}"


@pytest.mark.parametrize("page", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_the_code_fits_the_column(page):
    long = []
    for line, source in plumbing.visible_cells(page.read_text(encoding="utf-8")):
        for offset, text in enumerate(source.splitlines(), start=1):
            if len(text) > WIDTH:
                long.append(f"line {line + offset}: {len(text)} characters")
    assert not long, f"{page.name}: code wider than the page ({WIDTH} characters): {long}"


@pytest.mark.parametrize("page", TUTORIAL, ids=lambda p: p.name)
def test_the_tutorial_loads_its_digits_in_the_readers_words(page):
    """The data a page trains on is loaded in a cell the reader sees, with the fallback."""
    visible = "\n".join(source for _, source in plumbing.visible_cells(page.read_text(encoding="utf-8")))
    assert 'mg.datasets.load_mnist(split="test", download=False).split(8000)' in visible
    assert "except mg.DataError:" in visible and "mg.datasets.load_digits()" in visible


def test_the_tutorial_typesets_its_math():
    """Formulas are MyST math ($…$, $$…$$), not indented code lines of plain text."""
    for page in TUTORIAL:
        text = page.read_text(encoding="utf-8")
        prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        assert prose.count("$") >= 10, page.name
        as_code = [line for line in prose.splitlines() if re.match(r"^ {4}\S.*=", line)]
        assert not as_code, f"{page.name}: a formula set as code: {as_code}"
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert '"dollarmath"' in conf and '"amsmath"' in conf


def test_visible_cells_skips_hidden_ones_and_reads_both_option_styles():
    text = (
        "# A page\n\n"
        "```{code-cell} ipython3\n:tags: [remove-cell]\nimport os\nos.environ['X']\n```\n\n"
        "```{code-cell} ipython3\n---\ntags: [remove-input]\n---\nMarkdown(note)\n```\n\n"
        "```{code-cell} ipython3\n:tags: [hide-output]\nprint(os.environ['MICROGRADNET_DOCS_EXTRA'])\n```\n\n"
        "```{code-cell} ipython3\nx = 1\n```\n"
    )
    cells = plumbing.visible_cells(text)
    assert [line for line, _ in cells] == [16, 21]
    assert plumbing.plumbing_in(cells[0][1]) == ["a docs-build variable", "the environment"]
    assert plumbing.plumbing_in(cells[1][1]) == []


def test_the_rendered_page_scan_reads_only_cell_inputs(tmp_path):
    page = tmp_path / "tutorial" / "page.html"
    page.parent.mkdir()
    page.write_text(
        '<p>Set os.environ in prose is fine.</p><div class="cell docutils container">'
        '<div class="cell_input docutils container"><div class="highlight"><pre>'
        '<span class="kn">from</span> <span class="nn">tutorial_data</span> import x</pre></div></div>'
        '<div class="cell_output docutils container"><pre>tutorial_data in an output</pre></div></div>'
    )
    problems = plumbing.scan_site(tmp_path)
    assert len(problems) == 1 and "tutorial/page.html" in problems[0] and "data helper" in problems[0]


def test_draw_graph_and_the_readme_say_how_to_save_a_drawing():
    assert "render_graph(dot, " in mg.viz.draw_graph.__doc__
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**The graph your code built**") :][:1200]
    assert "mg.viz.render_graph(dot, " in section


def test_the_readme_gives_train_then_show():
    readme = (ROOT / "README.md").read_text()
    train = readme.index("microgradnet train --out model.npz")
    assert readme.index("microgradnet show weights model.npz") > train
    assert "`microgradnet show weights` with no model file trains" in readme


def test_the_build_stages_mnist_or_nothing(tmp_path, monkeypatch):
    """conf.py points MICROGRADNET_DATA at a staged folder: the test set when one is found,
    else an empty folder, where the pages' load_mnist raises DataError (and they fall back)."""

    monkeypatch.setenv("MICROGRADNET_MNIST", str(tmp_path / "nothing-here"))
    empty = docs_data.stage_mnist(tmp_path / "fallback")
    assert list((empty / "mnist").iterdir()) == []
    monkeypatch.setenv("MICROGRADNET_DATA", str(empty))
    with pytest.raises(mg.DataError):
        mg.datasets.load_mnist(split="test", download=False)

    monkeypatch.setenv("MICROGRADNET_MNIST", str(require_mnist()))
    staged = docs_data.stage_mnist(tmp_path / "mnist-build")
    monkeypatch.setenv("MICROGRADNET_DATA", str(staged))
    train, test = mg.datasets.load_mnist(split="test", download=False).split(8000)
    assert (len(train), len(test), train.image_shape) == (8000, 2000, (28, 28))
