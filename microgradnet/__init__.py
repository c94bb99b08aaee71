"""microgradnet: see and build neural networks from first principles.

A :class:`Tensor` records every op applied to it; ``backward()`` walks that graph in
reverse, applying the chain rule node by node. On top: ``nn`` (layers, ``MLP``), ``optim``
(``SGD``, ``Adam``), ``data`` and ``datasets``, the pictures in ``viz``, and ``export``.
"""

from . import data, datasets, export, nn, ops, optim, viz  # noqa: E402  (they import the engine above)
from ._version import __version__ as __version__  # the one place the version is written
from .errors import (
    DataError,
    DTypeError,
    GraphError,
    IndexOutOfRangeError,
    MicrogradnetError,
    ModelFileError,
    NumericalError,
    ShapeError,
)
from .functional import (
    add_bias,
    exp,
    log,
    log_softmax,
    matmul,
    mean,
    relu,
    reshape,
    sigmoid,
    softmax,
    sum,
    tanh,
    transpose,
)
from .gradcheck import GradcheckResult, gradcheck
from .losses import cross_entropy, squared_error
from .serialize import load, save
from .tensor import (
    Tensor,
    as_tensor,
    enable_grad,
    get_default_dtype,
    is_grad_enabled,
    no_grad,
    set_default_dtype,
    tensor,
)
from .threads import get_num_threads, set_num_threads
from .training import Evaluation, History, Snapshot, evaluate, fit

__all__ = [
    "Tensor",
    "tensor",
    "as_tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "get_default_dtype",
    "set_default_dtype",
    "gradcheck",
    "GradcheckResult",
    "matmul",
    "add_bias",
    "exp",
    "log",
    "sigmoid",
    "tanh",
    "relu",
    "softmax",
    "log_softmax",
    "sum",
    "mean",
    "reshape",
    "transpose",
    "squared_error",
    "cross_entropy",
    "ops",
    "nn",
    "optim",
    "data",
    "datasets",
    "viz",
    "export",
    "evaluate",
    "fit",
    "set_num_threads",
    "get_num_threads",
    "Evaluation",
    "History",
    "Snapshot",
    "save",
    "load",
    "MicrogradnetError",
    "ShapeError",
    "DTypeError",
    "GraphError",
    "IndexOutOfRangeError",
    "DataError",
    "ModelFileError",
    "NumericalError",
]
