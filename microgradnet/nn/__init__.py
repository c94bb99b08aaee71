"""Neural-network building blocks: ``Module``, ``Linear``, activations, ``Sequential``, ``MLP``."""

from .layers import (
    ACTIVATIONS,
    Identity,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    activation,
    get_activation,
)
from .mlp import MLP
from .module import Module, Parameter

__all__ = [
    "Module",
    "Parameter",
    "Linear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "Softmax",
    "Identity",
    "Sequential",
    "MLP",
    "activation",
    "get_activation",
    "ACTIVATIONS",
]
