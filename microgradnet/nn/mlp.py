"""``MLP``: the multilayer perceptron of 3Blue1Brown's videos, as a list of layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..errors import HIDDEN_FOR_USER_ERRORS
from .layers import Linear, Sequential
from .layers import activation as make_activation


class MLP(Sequential[Linear]):
    """A fully connected network: ``MLP([784, 16, 16, 10], activation="sigmoid")``.

    ``sizes`` lists the neurons per layer, input first. Layer ``i`` is
    ``Linear(sizes[i], sizes[i+1])`` followed by ``activation`` — or, for the last layer,
    by ``output_activation``, which defaults to the same activation (sigmoid outputs, as in
    the videos). Use ``output_activation=None`` for raw scores (logits) with
    ``cross_entropy``. Parameters are named ``layers.0.weight``, ``layers.0.bias``, … and
    are float32 unless ``dtype=np.float64``. ``seed`` makes the initial weights reproducible.

    The 784-16-16-10 network has 784·16+16 + 16·16+16 + 16·10+10 = 13,002 parameters.

    ``trained_on`` (None for a fresh network) is what ``mg.save`` records about the data the
    network learnt from, e.g. ``{"dataset": "mnist", "split_test_set": 8000}``; ``mg.load``
    restores it, so the command line can find the same test set again.
    """

    trained_on: dict | None = None

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | None = "sigmoid",
        output_activation: str | None = "same",
        dtype: DTypeLike = np.float32,
        seed: int | None = None,
        init: str | None = None,
    ):
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        sizes = list(sizes) if not isinstance(sizes, str) else sizes
        if (
            not isinstance(sizes, list)
            or len(sizes) < 2
            or any(not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1 for n in sizes)
        ):
            raise ValueError(
                f"MLP: sizes must be a list of at least two positive integers "
                f"(input, ..., output), got {sizes!r}"
            )
        make_activation(activation)  # validate the names early, with a clear message
        out_act = activation if output_activation == "same" else output_activation
        make_activation(out_act)
        rng = np.random.default_rng(seed)
        n = len(sizes) - 1
        layers = [
            Linear(
                sizes[i], sizes[i + 1], activation if i < n - 1 else out_act, dtype=dtype, rng=rng, init=init
            )
            for i in range(n)
        ]
        super().__init__(*layers)
        self.sizes = [int(s) for s in sizes]
        self.activation_name = _name(activation)
        self.output_activation_name = _name(out_act)
        self.dtype = np.dtype(dtype)

    def config(self) -> dict[str, Any]:
        """What it takes to build this network again (saved with the weights)."""
        return {
            "kind": "MLP",
            "sizes": self.sizes,
            "activation": self.activation_name,
            "output_activation": self.output_activation_name,
            "dtype": str(self.dtype),
        }

    def extra_repr(self) -> str:
        return "-".join(map(str, self.sizes))

    def summary(self) -> str:
        """A table of the layers: neurons in and out, weights, biases, and the total."""
        rows = [("layer", "neurons", "activation", "weights", "biases", "parameters")]
        for i, layer in enumerate(self.layers):
            act = type(layer.activation).__name__.lower() if layer.activation else "none"
            w, b = layer.weight.data.size, layer.bias.data.size
            rows.append(
                (
                    f"layers.{i}",
                    f"{layer.in_features} → {layer.out_features}",
                    act,
                    f"{w:,}",
                    f"{b:,}",
                    f"{w + b:,}",
                )
            )
        total = self.num_parameters()
        widths = [max(len(r[i]) for r in rows) for i in range(6)]

        def fmt(r):
            return "  ".join(
                c.ljust(wd) if i < 3 else c.rjust(wd) for i, (c, wd) in enumerate(zip(r, widths))
            )

        rule = "-" * len(fmt(rows[0]))
        lines = [f"MLP {'-'.join(map(str, self.sizes))} ({self.dtype})", fmt(rows[0]), rule]
        lines += [fmt(r) for r in rows[1:]]
        lines += [rule, f"total: {total:,} weights and biases"]
        return "\n".join(lines)


def _name(act: str | None) -> str:
    m = make_activation(act)
    return "none" if m is None else type(m).__name__.lower()
