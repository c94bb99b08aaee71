"""Sphinx configuration for microgradnet's documentation.

Build (from the repository root):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The tutorial and how-to pages are MyST notebooks: myst-nb runs every code cell during the
build, so each number and picture on those pages is made by the code of that day.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the microgradnet of this checkout, not an installed one
sys.path.insert(0, str(DOCS / "_ext"))  # our small Sphinx extensions

# The notebooks' kernel inherits this environment: it imports the same microgradnet. No
# matplotlib backend or magic is needed: the pictures show themselves (viz.picture.Picture).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
# The pages train small networks on small batches, where a second BLAS thread costs more in
# hand-offs than it saves (benchmarks/ measures it): one thread keeps the build quick.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Files that cells write for the built site (the backprop stepper page) are staged here and
# copied to the root of the built site by html_extra_path.
EXTRA = DOCS / "_build" / "extra"
EXTRA.mkdir(parents=True, exist_ok=True)
os.environ["MICROGRADNET_DOCS_EXTRA"] = str(EXTRA)

from docs_data import stage_mnist  # noqa: E402

import microgradnet  # noqa: E402

# The pages load MNIST as a reader would, mg.datasets.load_mnist(split="test", download=False),
# which looks in $MICROGRADNET_DATA/mnist: stage the test set found on this machine there (or
# nothing, and the pages fall back to the embedded 8x8 digits and say so).
os.environ["MICROGRADNET_DATA"] = str(stage_mnist(DOCS / "_build" / "data"))

project = "microgradnet"
author = "microgradnet developers"
copyright = "microgradnet developers"
release = version = microgradnet.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "cli_reference",
    "cli_run",
    "plumbing",
]

exclude_patterns = ["_build", "jupyter_execute", "README.md", "**/.ipynb_checkpoints", "api/generated/*.tmp"]
templates_path = ["_templates"]
# .rst first: autosummary writes its stubs with the first suffix, and they are reST.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"
nitpicky = True
# Types from other libraries appear in signatures; without network access there is no
# inventory to link them to, so they stay plain text rather than broken links.
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np|matplotlib|graphviz|pathlib|collections|argparse|torch|onnx|os|typing)\..*"),
    ("py:class", r"(Path|Figure|Axes|Digraph|OrderedDict|Iterator|Sequence|ArrayLike|DTypeLike)"),
    ("py:class", r"microgradnet\.nn\.layers\.M"),  # Sequential's layer type, Sequential[Linear] for an MLP
]

# -- MyST and myst-nb --------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline", "attrs_block", "dollarmath", "amsmath"]
myst_heading_anchors = 3
# Every build runs every notebook. MICROGRADNET_DOCS_EXECUTE=off skips them (for quick
# work on the prose or the API pages; such a build shows no outputs).
nb_execution_mode = os.environ.get("MICROGRADNET_DOCS_EXECUTE", "force")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_merge_streams = True
nb_execution_excludepatterns = []

# -- autodoc / autosummary ---------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
napoleon_google_docstring = True
napoleon_numpy_docstring = True
add_module_names = False
toc_object_entries = False

# -- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"microgradnet {release}"
html_static_path = ["_static"]
html_css_files = ["microgradnet.css"]
html_js_files = ["microgradnet.js"]


# The formulas are typeset by MathJax. A site read offline (or from a copy on disk) cannot
# fetch it from the web, so the site carries its own: MathJax's single-file TeX-to-SVG build
# (fonts included), from the "sphinx-mathjax-offline" package of the docs extra. Without that
# package, Sphinx's default (MathJax from a CDN) is used.
def _offline_mathjax() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        return None
    script = Path(spec.origin).parent / "static" / "mathjax" / "tex-svg.js"
    return script if script.is_file() else None


if _offline_mathjax() is not None:
    html_static_path.append(str(_offline_mathjax()))
    mathjax_path = "tex-svg.js"
html_extra_path = [str(EXTRA)]
html_show_sourcelink = False


# -- Short names in docstrings -------------------------------------------------------------
# Docstrings say :class:`GraphvizNotFoundError` or :class:`ExportError` from inside the module
# that defines them, while the reference pages document some objects under the public path
# users type (mg.viz.draw_graph) and others under their defining module. When a Python
# reference finds nothing, resolve it by its last name if exactly one documented object has
# that name; anything else stays a warning (and -W makes it an error).
def _resolve_by_last_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    last = target.rsplit(".", 1)[-1]
    domain = env.domains["py"]
    matches = [name for name in domain.objects if name.rsplit(".", 1)[-1] == last]
    if len(matches) != 1:
        return None
    from sphinx.util.nodes import make_refnode

    entry = domain.objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0])


def setup(app):
    app.connect("missing-reference", _resolve_by_last_name)
