"""Every op of the engine, one small class each: forward, gradient rule, formulas.

``OPS`` maps each graph name (``matmul``, ``add_bias``, ``sigmoid`` …) to its class.
"""

from .arithmetic import AddBiasOp, AddOp, DivOp, MulOp, NegOp, PowOp, SubOp
from .base import OPS, Op, unbroadcast
from .functions import ExpOp, LogOp, ReLUOp, SigmoidOp, TanhOp, sigmoid_array
from .linalg import MatMulOp
from .losses import CrossEntropyOp, SquaredErrorOp
from .reduce import MeanOp, SumOp
from .shape import GetItemOp, ReshapeOp, TransposeOp
from .softmax import LogSoftmaxOp, SoftmaxOp

__all__ = [
    "OPS",
    "Op",
    "unbroadcast",
    "AddOp",
    "AddBiasOp",
    "SubOp",
    "MulOp",
    "DivOp",
    "PowOp",
    "NegOp",
    "ExpOp",
    "LogOp",
    "SigmoidOp",
    "TanhOp",
    "ReLUOp",
    "MatMulOp",
    "SumOp",
    "MeanOp",
    "ReshapeOp",
    "TransposeOp",
    "GetItemOp",
    "SoftmaxOp",
    "LogSoftmaxOp",
    "SquaredErrorOp",
    "CrossEntropyOp",
    "sigmoid_array",
]
