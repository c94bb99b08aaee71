"""Names as text that is safe to show: in a graph picture, a web page, a terminal, an error.

A tensor's or a module's name is whatever string the user gave, and some strings show
something other than what they hold: a right-to-left override (U+202E) makes ``bias`` read
as ``saib``, zero-width characters make two different names look the same, control
characters move the cursor, and a lone surrogate (half of a UTF-16 pair, e.g. from a
badly decoded file) cannot even be written as UTF-8. :func:`display_name` writes each such
character as a visible escape (``\\u202e``), the way Python's ``repr`` does, and leaves
every other character, Greek, Arabic, Chinese or emoji, as it is.
"""

from __future__ import annotations

import unicodedata

__all__ = ["display_name"]

# Control (Cc), format (Cf: bidi controls, zero-width characters), surrogate (Cs), line and
# paragraph separators (Zl, Zp), private-use (Co) and unassigned (Cn) code points.
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _escape(ch: str) -> str:
    o = ord(ch)
    if o < 0x100:
        return f"\\x{o:02x}"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def display_name(name) -> str:
    """``name`` as text that shows what it holds: invisible, direction-changing and
    unencodable characters become escapes such as ``\\u202e``; ``None`` becomes ``""``.

    >>> display_name("b\\u202eevil")
    'b\\\\u202eevil'
    >>> display_name("σ₁")
    'σ₁'
    """
    if name is None:
        return ""
    text = str(name)
    if text.isprintable():  # the usual case, one fast check (a space is printable too)
        return text
    return "".join(_escape(ch) if ch != " " and unicodedata.category(ch) in _HIDDEN else ch for ch in text)
