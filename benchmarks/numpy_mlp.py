"""The "floor": Nielsen's network written by hand in numpy, with backpropagation spelled out.

Same math as ``MLP(sizes, "sigmoid")`` trained with ``squared_error`` and plain SGD:

    forward   z_l = a_{l-1} @ W_l + b_l,   a_l = σ(z_l)
    cost      C = (1/N) Σ_n Σ_j (a_L − y)²
    backward  δ_L = 2(a_L − y)/N ⊙ σ'(z_L),   δ_l = (δ_{l+1} @ W_{l+1}ᵀ) ⊙ σ'(z_l)
              ∂C/∂W_l = a_{l-1}ᵀ @ δ_l,     ∂C/∂b_l = Σ_n δ_l
    update    W ← W − lr ∂C/∂W,  b ← b − lr ∂C/∂b

Rows are examples (a batch is ``(N, features)``), float32 throughout, σ'(z) = a(1 − a) from
the saved activations, in place where that is natural. No framework, no graph: this is what
a careful person writes by hand, and what an autodiff engine's overhead is measured against.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) in place on ``z`` (``z`` is a fresh temporary here). ``-z`` is capped at 88 so
    that ``exp`` cannot overflow float32 (σ is then 0 to float32 precision anyway)."""
    np.negative(z, out=z)
    np.minimum(z, 88.0, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


class NumpyMLP:
    """A sigmoid network with squared-error cost and SGD, weights as ``(in, out)`` matrices."""

    def __init__(self, weights, biases, dtype=np.float32):
        self.W = [np.array(w, dtype=dtype) for w in weights]
        self.b = [np.array(b, dtype=dtype) for b in biases]
        self.dtype = np.dtype(dtype)
        self.eye = np.eye(self.W[-1].shape[1], dtype=dtype)

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations, input first."""
        acts = [x]
        for W, b in zip(self.W, self.b):
            z = acts[-1] @ W
            z += b
            acts.append(sigmoid(z))
        return acts

    def train_step(self, x: np.ndarray, labels: np.ndarray, lr: float) -> float:
        """One SGD step on the batch; returns the cost before the step."""
        return self.backward_update(self.forward(x), labels, lr)

    def backward_update(self, acts: list[np.ndarray], labels: np.ndarray, lr: float) -> float:
        """The cost, backpropagation and the SGD update, from the activations of ``forward``."""
        a = acts[-1]
        x = acts[0]
        n = len(x)
        diff = a - self.eye[labels]
        cost = float(np.dot(diff.ravel(), diff.ravel())) / n
        # δ_L = 2(a − y)/N ⊙ a(1 − a)
        delta = diff
        delta *= 2.0 / n
        delta *= a - a * a
        for layer in range(len(self.W) - 1, -1, -1):
            a_prev = acts[layer]
            gW = a_prev.T @ delta
            gb = delta.sum(axis=0)
            if layer > 0:
                delta = delta @ self.W[layer].T
                delta *= a_prev - a_prev * a_prev
            gW *= lr
            gb *= lr
            self.W[layer] -= gW
            self.b[layer] -= gb
        return cost

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[-1]
