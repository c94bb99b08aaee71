"""Every op of the engine, one small class each: forward, gradient rule, formulas.

``OPS`` maps each graph name (``matmul``, ``add_bias``, ``sigmoid`` …) to its class.
"""

from .arithmetic import Add, AddBias, Div, Mul, Neg, Pow, Sub
from .base import OPS, Op, unbroadcast
from .functions import Exp, Log, ReLU, Sigmoid, Tanh, sigmoid_array
from .linalg import MatMul
from .losses import CrossEntropy, SquaredError
from .reduce import Mean, Sum
from .shape import GetItem, Reshape, Transpose
from .softmax import LogSoftmax, Softmax

__all__ = [
    "OPS",
    "Op",
    "unbroadcast",
    "Add",
    "AddBias",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Neg",
    "Exp",
    "Log",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "MatMul",
    "Sum",
    "Mean",
    "Reshape",
    "Transpose",
    "GetItem",
    "Softmax",
    "LogSoftmax",
    "SquaredError",
    "CrossEntropy",
    "sigmoid_array",
]
