"""Pictures: the computation graph, the backprop stepper, the chain rule, the videos' figures,
and the pages that let a learner poke them (the nudge check, the nudge table).

``mg.viz.stepper(cost)`` shows the backprop stepper inside a notebook.

Names are imported on first use, so ``import microgradnet`` stays fast and matplotlib is
only needed for the figures that use it.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and editors see; at run time each name loads on first use
    from .batch_nudges import NudgeTable, nudge_table, show_nudge_table
    from .chain import ChainPath, chain_rule, chain_rule_paths
    from .draw_page import digit_page
    from .graph import draw_graph, graph_nodes, render_graph, summarize
    from .learning import learning_page
    from .nudge import NudgeRows, nudge_check
    from .picture import Picture
    from .pictures import (
        cost_curve,
        save_figure,
        show_digits,
        show_network,
        show_noise,
        show_nudges,
        show_weights,
    )
    from .render import Drawing, GraphvizNotFoundError
    from .stepper import backprop_page, stepper  # at run time the name is the callable module

_WHERE = {
    "draw_graph": "graph",
    "graph_nodes": "graph",
    "summarize": "graph",
    "render_graph": "graph",
    "backprop_page": "stepper",
    "stepper": "stepper",
    "chain_rule": "chain",
    "chain_rule_paths": "chain",
    "GraphvizNotFoundError": "render",
    "Drawing": "render",
    "ChainPath": "chain",
    "show_weights": "pictures",
    "show_network": "pictures",
    "show_noise": "pictures",
    "cost_curve": "pictures",
    "show_nudges": "pictures",
    "show_digits": "pictures",
    "save_figure": "pictures",
    "nudge_check": "nudge",
    "NudgeRows": "nudge",
    "nudge_table": "batch_nudges",
    "NudgeTable": "batch_nudges",
    "show_nudge_table": "batch_nudges",
    "learning_page": "learning",
    "digit_page": "draw_page",
    "Picture": "picture",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        # ``stepper`` is a module that can be called (the inline stepper): the name is the module
        return module if name == _WHERE[name] else getattr(module, name)
    raise AttributeError(f"module 'microgradnet.viz' has no attribute {name!r}")


def __dir__():
    return __all__
