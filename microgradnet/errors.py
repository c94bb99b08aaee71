"""The errors microgradnet raises on purpose.

Each one is a subclass of a built-in exception (``ValueError``, ``TypeError``, ``OSError``),
so code that already catches those keeps working, and of :class:`MicrogradnetError`, so the
command line can turn any of them into one readable line instead of a traceback.
"""


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
