"""The errors microgradnet raises on purpose.

Each one is a subclass of a built-in exception (``ValueError``, ``TypeError``, ``OSError``),
so code that already catches those keeps working, and of :class:`MicrogradnetError`, so the
command line can turn any of them into one readable line instead of a traceback.
In IPython and Jupyter their tracebacks leave out the library's inner frames (see
``HIDDEN_FOR_USER_ERRORS``).
"""

import os
import sys


class MicrogradnetError(Exception):
    """Base class: a problem the user can fix (bad input, bad file, bad setting)."""


class ShapeError(MicrogradnetError, ValueError):
    """Two arrays cannot meet in an op: the message names the op and both shapes."""


class DTypeError(MicrogradnetError, TypeError):
    """A value of the wrong type or dtype reached an op or a constructor."""


class GraphError(MicrogradnetError, RuntimeError):
    """The computation graph cannot do what was asked (e.g. backward through a released graph)."""


class DataError(MicrogradnetError, ValueError):
    """A dataset file is missing, corrupt, truncated or inconsistent: the message names the file."""


class ModelFileError(MicrogradnetError, ValueError):
    """A saved model cannot be read or does not fit the model it is loaded into."""


class NumericalError(MicrogradnetError, ArithmeticError, ValueError):
    """A value is or became NaN or infinite (a bad input, or a learning rate too large)."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index past the end of an axis (or more indices than axes).

    Also an ``IndexError``, as Python expects of indexing: code that indexes until an
    ``IndexError`` (old-style iteration, ``try: t[i]``) stops where it should.
    """


class _HiddenForUserErrors:
    """The value of ``__tracebackhide__`` in the library's functions that stand between a
    learner's line and the check that rejects it (e.g. ``Tensor.__matmul__`` → ``apply`` →
    ``MatMul.forward``).

    IPython (so Jupyter) leaves out of a traceback every frame whose ``__tracebackhide__`` is
    true, except the last, where the error was raised. This value is true only while an
    error that microgradnet raised on purpose is shown — a :class:`MicrogradnetError`, or a
    ``ValueError``/``TypeError``/``LookupError`` whose ``raise`` is in microgradnet's own code —
    so a learner sees their line, the check, and the message; any other exception (a bug)
    keeps every frame. pytest calls it and gets False: test failures keep full tracebacks.
    """

    def __bool__(self) -> bool:
        error = sys.exc_info()[1]
        if isinstance(error, MicrogradnetError):
            return True
        if not isinstance(error, (ValueError, TypeError, LookupError)):
            return False
        tb = error.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        return tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE)

    def __call__(self, excinfo) -> bool:  # pytest's question
        return False

    def __repr__(self):
        return "HIDDEN_FOR_USER_ERRORS"


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

HIDDEN_FOR_USER_ERRORS = _HiddenForUserErrors()
