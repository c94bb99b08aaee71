"""Write your own op: softplus(z) = ln(1 + eᶻ), a smooth ReLU whose derivative is σ(z).

An op is a name, a forward on numpy arrays, and a gradient rule; `mg.gradcheck` then checks
the rule against finite differences.

    python examples/custom_op.py
"""

import numpy as np

import microgradnet as mg
from microgradnet.functional import apply
from microgradnet.ops import Op, sigmoid_array


class Softplus(Op):
    """softplus(z) = ln(1 + eᶻ); its derivative is the sigmoid σ(z)."""

    name = "softplus"  # what the graph pictures show
    symbol = "ln(1 + eᶻ)"
    derivatives = ("σ(z)",)  # one formula per input
    elementwise = True

    def forward(self, z):
        self.saved = z  # keep what the gradient rule needs
        return np.logaddexp(0, z)  # ln(e⁰ + eᶻ), computed without overflow

    def backward(self, g, needs):
        return (g * sigmoid_array(self.saved),)  # chain rule: upstream · local derivative

    def local_derivative(self, i, xs, out):
        return sigmoid_array(xs[0])


def softplus(x):
    return apply(Softplus(), mg.as_tensor(x))


z = mg.Tensor(np.linspace(-3, 3, 7), requires_grad=True, name="z")
y = softplus(z).sum()
y.backward()
print("softplus(z) =", np.round(softplus(z).data, 4))
print("dy/dz       =", np.round(z.grad, 4), "(the sigmoid of z)")
print(mg.gradcheck(lambda t: softplus(t * t), np.random.default_rng(0).normal(size=(3, 4))))
