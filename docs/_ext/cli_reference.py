"""A Sphinx directive that documents the ``microgradnet`` command line from its own parser.

    ```{microgradnet-cli}
    ```

asks ``microgradnet.cli.build_parser()`` for its sub-commands and writes, for each one, a
section with its description, its usage line and every flag (metavar, help, choices,
default). The page can therefore never drift from the code: a new command or flag shows up
at the next build.
"""

from __future__ import annotations

import argparse

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

SUPPRESS = argparse.SUPPRESS


def _subparsers(parser: argparse.ArgumentParser):
    """``(name, one-line help, sub-parser)`` for each command, in the parser's order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name) or "", sub


def _flag_text(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """``--lr LR`` / ``-h, --help`` / ``model``: what the user types."""
    if not action.option_strings:
        return formatter._metavar_formatter(action, action.dest)(1)[0]
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    meta = formatter._format_args(action, action.dest.upper())
    return ", ".join(f"{opt} {meta}" for opt in action.option_strings)


def _help_text(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    if not action.help or action.help == SUPPRESS:
        return ""
    return formatter._expand_help(action)


def _details(action: argparse.Action) -> list[str]:
    """Facts argparse knows that the help text may not say: choices, default, required."""
    out = []
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        out.append("choices: " + ", ".join(str(c) for c in action.choices))
    if action.required and action.option_strings:
        out.append("required")
    default = action.default
    shown = (
        default not in (None, False, SUPPRESS)
        and action.nargs != 0
        and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
    )
    if shown and "default" not in (action.help or "").lower():
        out.append(f"default: {default}")
    return out


class CommandLineReference(SphinxDirective):
    """Render every sub-command of ``microgradnet.cli.build_parser()``."""

    has_content = False

    def run(self):
        from microgradnet.cli import build_parser

        parser = build_parser()
        result = []
        top = nodes.literal_block(text=parser.format_help().rstrip(), language="none")
        result.append(top)
        for name, short, sub in _subparsers(parser):
            section_id = f"cli-{name}"
            section = nodes.section(ids=[section_id], names=[f"microgradnet {name}"])
            self.state.document.note_implicit_target(section)
            section += nodes.title(text=f"microgradnet {name}")
            # a label, so that other pages can write {ref}`cli-train`
            self.env.domains["std"].note_hyperlink_target(
                section_id, self.env.docname, section_id, f"microgradnet {name}"
            )
            text = sub.description or short
            if text:
                section += nodes.paragraph(text=text[0].upper() + text[1:])
            usage = sub.format_usage().replace("usage: ", "", 1).rstrip()
            section += nodes.literal_block(text=usage, language="none")
            formatter = sub._get_formatter()
            for group in sub._action_groups:
                actions = [a for a in group._group_actions if a.help != SUPPRESS]
                if not actions:
                    continue
                title = group.title or "arguments"
                section += nodes.rubric(text=title[0].upper() + title[1:])
                dl = nodes.definition_list()
                for action in actions:
                    item = nodes.definition_list_item()
                    term = nodes.term()
                    term += nodes.literal(text=_flag_text(action, formatter))
                    item += term
                    definition = nodes.definition()
                    help_text = _help_text(action, formatter)
                    if help_text:
                        definition += nodes.paragraph(text=help_text)
                    facts = _details(action)
                    if facts:
                        para = nodes.paragraph()
                        para += nodes.emphasis(text="; ".join(facts))
                        definition += para
                    if not help_text and not facts:
                        definition += nodes.paragraph(text="(no description)")
                    item += definition
                    dl += item
                section += dl
            if sub.epilog:
                section += nodes.paragraph(text=sub.epilog)
            result.append(section)
        return result


def setup(app):
    app.add_directive("microgradnet-cli", CommandLineReference)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
