"""Looking inside a network while it learns: the confusion matrix, each layer's activations
mapped to 2-D, and the hints that say when training is going wrong. Plain numpy, no HTTP."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, no_grad


def square_shape(n: int) -> tuple[int, int] | None:
    """``(k, k)`` when ``n`` pixels make a square image, else None."""
    k = math.isqrt(n)
    return (k, k) if k * k == n else None


def layer_activations(model, x: np.ndarray) -> list[np.ndarray]:
    """The input and every layer's activations for a batch ``x`` (no graph is built), as the
    pictures trace them (``viz.pictures._trace``: one entry per Linear layer)."""
    from ..viz.pictures import _trace

    with no_grad():
        acts = _trace(model, Tensor(np.asarray(x, dtype=model.layers[0].weight.data.dtype)))
    return [np.asarray(x), *(a.data for a in acts[1:])]


def confusion(model, test, per_cell: int = 24) -> dict:
    """``matrix[i][j]``: how many test images of class ``i`` the network calls ``j``; for
    every wrong cell, the indices of up to ``per_cell`` of those images."""
    out = layer_activations(model, test.x)[-1]
    pred = out.argmax(axis=1)
    k = max(int(test.y.max()) + 1, out.shape[1])
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (test.y, pred), 1)
    wrong = {}
    for i, j in zip(*np.nonzero(matrix)):
        if i != j:
            idx = np.flatnonzero((test.y == i) & (pred == j))[:per_cell]
            wrong[f"{i},{j}"] = idx.tolist()
    return {
        "matrix": matrix.tolist(),
        "wrong": wrong,
        "accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)),
        "classes": list(test.classes) if test.classes is not None else [str(i) for i in range(k)],
    }


def pca_2d(a: np.ndarray) -> np.ndarray:
    """The two directions along which the rows of ``a`` vary most (principal components),
    found with an SVD of the centred data; each row's coordinates along them."""
    c = a - a.mean(axis=0)
    if not np.any(c):
        return np.zeros((len(a), 2))
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    pts = c @ vt[:2].T
    if pts.shape[1] < 2:  # a layer with one neuron: a line
        pts = np.hstack([pts, np.zeros((len(a), 1))])
    return pts


def embed(acts: np.ndarray, labels: np.ndarray, method: str = "pca") -> dict:
    """Rows of ``acts`` as 2-D points (``pca``, or ``tsne`` where scikit-learn is installed),
    scaled to [0, 1], with their labels."""
    a = np.asarray(acts, dtype=np.float64).reshape(len(acts), -1)
    if method == "pca":
        pts = pca_2d(a)
    elif method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            from .session import LabError

            raise LabError(
                "t-SNE needs scikit-learn: pip install scikit-learn (PCA works without it)"
            ) from None
        perplexity = float(min(30, max(2, (len(a) - 1) // 3)))
        pts = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=0).fit_transform(a)
    else:
        from .session import LabError

        raise LabError(f"unknown method {method!r}; choose pca or tsne")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pts = (pts - lo) / span
    return {
        "points": pts.round(4).tolist(),
        "labels": np.asarray(labels).astype(int).tolist(),
        "method": method,
    }


def hints(
    *, model, settings, step_costs, epoch_cost, train_accuracy, test_accuracy, probe, error=None
) -> list[str]:
    """One line for each sign that training is going wrong, each naming the knob to turn:
    a diverging cost, saturated sigmoids, a dead ReLU layer, overfitting."""
    out = []
    lr = settings["lr"]
    recent = [c for c in step_costs[-50:] if c is not None]
    diverging = error is not None and "cost became" in error
    if not diverging and len(step_costs) >= 100:
        early = float(np.mean(step_costs[:50]))
        late = float(np.mean(step_costs[-50:]))
        diverging = not math.isfinite(late) or late > 1.5 * early + 1e-9
    if not diverging and len(epoch_cost) >= 3:
        diverging = epoch_cost[-1] > epoch_cost[-2] > epoch_cost[-3] and epoch_cost[-1] > 1.2 * min(
            epoch_cost
        )
    if diverging:
        out.append(
            f"The cost is rising instead of falling: the steps overshoot the valley. "
            f"Lower the learning rate (now {lr:g}), e.g. to {lr / 10:g}."
        )
    # Saturated sigmoids: the cost sits near 1.0 (every output stuck at 0 or 1) and stops
    # falling. A fresh network also starts near there for a while, so judge only a plateau:
    # 300 steps on, and no better than 200 steps before.
    if settings["activation"] == "sigmoid" and settings["loss"] == "mse" and len(step_costs) >= 300:
        before = float(np.mean(step_costs[-250:-200]))
        now = float(np.mean(recent))
        if now >= 0.85 and now >= 0.98 * before:
            out.append(
                "The sigmoid neurons are saturated (outputs stuck near 0 or 1, the cost near 1.0 and not "
                f"falling): their slope σ′ is almost 0, so the nudges vanish. Lower the learning rate "
                f"(now {lr:g}) and build again."
            )
    if settings["activation"] == "relu":
        for i, a in enumerate(layer_activations(model, probe)[1:-1], start=1):
            if a.size and not np.any(a > 0):
                out.append(
                    f"Hidden layer {i}'s ReLU neurons are all dead (0 for every input), so no gradient flows "
                    f"through them. Lower the learning rate (now {lr:g}), or use sigmoid or tanh."
                )
                break
    if train_accuracy and test_accuracy:
        gap = train_accuracy[-1] - test_accuracy[-1]
        if gap > 0.08:
            out.append(
                f"Training accuracy {train_accuracy[-1]:.1%} but test accuracy {test_accuracy[-1]:.1%}: the "
                "network is memorising its training images. Use fewer hidden neurons, more data, or stop earlier."
            )
    return out
