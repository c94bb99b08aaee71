"""Check a gradient rule against the definition of the derivative.

For each input number ``x_i`` the central difference ``(f(x + ε·e_i) − f(x − ε·e_i)) / 2ε``
approximates ``∂f/∂x_i``; ``backward()`` must agree with it. Everything runs in float64,
where the approximation is good to about ``ε²``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .display import display_name
from .errors import GraphError
from .tensor import Tensor, no_grad


@dataclass
class GradcheckResult:
    """The outcome of :func:`gradcheck`; true when every gradient matched.

    ``worst`` names the input, the position and both values of the largest mismatch.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst: dict = field(default_factory=dict)  # input, name, index, analytic, numeric
    checked: int = 0

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "gradcheck passed" if self.ok else "gradcheck FAILED"
        s = (
            f"{head}: {self.checked} values checked, max abs error {self.max_abs_error:.3g}, "
            f"max rel error {self.max_rel_error:.3g}"
        )
        if self.worst:
            w = self.worst
            which = f"input {w['input']}"
            if w.get("name"):
                which = f"'{display_name(w['name'])}' ({which})"
            s += (  # on lines of their own: the whole message fits a terminal or a page
                f"\n  worst at {which} index {w['index']}:"
                f"\n  backward {w['analytic']:.10g} vs finite difference {w['numeric']:.10g}"
            )
        return s


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Tensor | ArrayLike,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
    raise_on_failure: bool = False,
) -> GradcheckResult:
    """Compare ``backward()`` of ``fn(*inputs)`` with central finite differences in float64.

    ``inputs`` are Tensors (those with ``requires_grad=True`` are checked) or arrays (all
    checked); each is copied into a fresh float64 array, so views and transposes work and the
    caller's data is never touched. The output is reduced with a fixed random weighting
    ``Σ out·v`` (every ``|v| ≥ 1.5``, random signs, also for a scalar output), which checks the
    full vector-Jacobian product: a gradient rule that ignores the upstream gradient ``g``
    fails even for ``fn = lambda x: op(x).sum()``, where ``g`` would otherwise be all ones.
    A value passes when
    ``|analytic − numeric| <= atol + rtol·|numeric|``. Returns a :class:`GradcheckResult`
    (true when all passed); with ``raise_on_failure=True`` a mismatch raises ``AssertionError``.
    """
    rng = np.random.default_rng(seed)
    ts = []
    for x in inputs:
        if isinstance(x, Tensor):
            ts.append(Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad, name=x.name))
        else:
            ts.append(Tensor(np.array(x, dtype=np.float64), requires_grad=True))
    if not any(t.requires_grad for t in ts):
        raise GraphError("gradcheck: no input requires grad; pass requires_grad=True tensors or arrays")

    out = fn(*ts)
    if not isinstance(out, Tensor):
        raise GraphError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    # Not all ones (that would hide a rule ignoring g) and no weight near 0 (hiding an output).
    v = rng.uniform(1.5, 2.5, out.shape) * rng.choice((-1.0, 1.0), out.shape)

    def scalar(o):
        return float(np.sum(o.data * v))

    out.backward(gradient=v)
    worst_abs = worst_rel = 0.0
    worst: dict[str, Any] = {}
    ok = True
    checked = 0
    for k, t in enumerate(ts):
        if not t.requires_grad:
            continue
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        values = t.data  # the function reads this very array: nudge it in place
        for at in np.ndindex(values.shape):
            old = values[at]
            with no_grad():
                values[at] = old + eps
                up = scalar(fn(*ts))
                values[at] = old - eps
                down = scalar(fn(*ts))
            values[at] = old
            numeric = (up - down) / (2 * eps)
            a = float(analytic[at])
            err = abs(a - numeric)
            rel = err / max(abs(numeric), 1e-12)
            checked += 1
            bad = err > atol + rtol * abs(numeric)
            if bad:
                ok = False
            if err > worst_abs or (bad and not worst.get("bad")):
                worst_abs = max(worst_abs, err)
                worst = {
                    "input": k,
                    "name": t.name,
                    "index": at,
                    "analytic": a,
                    "numeric": numeric,
                    "bad": bad,
                }
            worst_rel = max(worst_rel, rel if err > atol else 0.0)
    result = GradcheckResult(ok, worst_abs, worst_rel, worst, checked)
    if raise_on_failure and not ok:
        raise AssertionError(str(result))
    return result
