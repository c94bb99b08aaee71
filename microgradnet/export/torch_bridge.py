"""microgradnet ↔ PyTorch: an ``MLP`` becomes a ``torch.nn.Sequential`` and back.

The correspondence, layer by layer (``k`` counts the modules of the Sequential)::

    microgradnet                       PyTorch
    layers.i  Linear + activation  ↔   k: nn.Linear,  k+1: nn.Sigmoid / nn.ReLU / nn.Tanh / nn.Softmax(dim=-1)
    layers.i.weight   (in, out)    ↔   k.weight   (out, in)    — the same matrix, transposed
    layers.i.bias     (out,)       ↔   k.bias     (out,)

microgradnet computes ``z = x @ W + b`` with ``W`` of shape (in, out); ``torch.nn.Linear``
computes ``z = x @ Wᵀ + b`` with its weight stored as (out, in). Both give the same numbers
when torch's weight is our ``W`` transposed; the conversion does that transpose explicitly
(and copies, so the two models never share memory). When every layer has an activation,
layer ``i`` is module ``2i`` on the PyTorch side; :func:`name_map` gives the exact names for
any model. Dtypes are kept: float32 stays float32, float64 stays float64.
"""

from __future__ import annotations

import io
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_bytes
from ..errors import MicrogradnetError, ModelFileError
from ..serialize import describe_nonfinite

INSTALL_TORCH = 'pip install "microgradnet[torch]"'
CHECKPOINT_FORMAT = "microgradnet-torch-1"

# microgradnet activation name -> torch.nn class name
_TO_TORCH_ACT = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "softmax": "Softmax"}
_FROM_TORCH_ACT = {v: k for k, v in _TO_TORCH_ACT.items()}
_FLOATS = {"float32", "float64"}


class ExportError(MicrogradnetError, ValueError):
    """A model, layer, op or file that cannot be converted: the message names the culprit."""


def _torch():
    """Import torch, or explain which extra to install."""
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"exporting to PyTorch needs torch, which is not installed: {INSTALL_TORCH}"
        ) from None
    return torch


# ----------------------------------------------------------------------------- plans
# A "plan" is the list of modules of the Sequential, independent of torch:
#   ("linear", mg_prefix, in_features, out_features)  or  ("act", name)


def _activation_name(module, where: str) -> str | None:
    """The name (sigmoid, relu, tanh, softmax) of a microgradnet activation module, or None."""
    if module is None:
        return None
    name = type(module).__name__.lower()
    if name == "identity":
        return None
    if name not in _TO_TORCH_ACT:
        raise ExportError(
            f"to_torch: {where} uses the activation {type(module).__name__}, which has no "
            f"PyTorch mapping here (supported: Sigmoid, ReLU, Tanh, Softmax)"
        )
    return name


def _plan_of_model(model) -> list[tuple]:
    from ..nn import Linear, Sequential

    if not isinstance(model, Sequential):
        raise ExportError(
            f"to_torch: expected an MLP (or a microgradnet nn.Sequential of Linear layers), got "
            f"{type(model).__name__}; for any other model use export.to_onnx, which exports "
            "the recorded graph"
        )
    plan: list[tuple] = []
    for i, layer in enumerate(model.layers):
        where = f"layers.{i}"
        if isinstance(layer, Linear):
            plan.append(("linear", where, layer.in_features, layer.out_features))
            act = _activation_name(layer.activation, where)
        elif type(layer).__name__.lower() in _TO_TORCH_ACT or type(layer).__name__ == "Identity":
            act = _activation_name(layer, where)
        else:
            raise ExportError(
                f"to_torch: {where} is a {type(layer).__name__}, not a Linear layer or an "
                "activation (Sigmoid, ReLU, Tanh, Softmax); use export.to_onnx for other models"
            )
        if act is not None:
            plan.append(("act", act))
    if not any(p[0] == "linear" for p in plan):
        raise ExportError("to_torch: the model has no Linear layer")
    return plan


def _plan_of_config(config: dict) -> list[tuple]:
    sizes = config["sizes"]
    n = len(sizes) - 1
    plan: list[tuple] = []
    for i in range(n):
        plan.append(("linear", f"layers.{i}", sizes[i], sizes[i + 1]))
        act = config["activation"] if i < n - 1 else config["output_activation"]
        if act not in (None, "none", "identity"):
            plan.append(("act", act))
    return plan


def _names(plan) -> dict[str, str]:
    out = {}
    for k, step in enumerate(plan):
        if step[0] == "linear":
            out[f"{step[1]}.weight"] = f"{k}.weight"
            out[f"{step[1]}.bias"] = f"{k}.bias"
    return out


def name_map(model) -> dict[str, str]:
    """The parameter names of ``model`` and their PyTorch names after :func:`to_torch`:
    ``{"layers.0.weight": "0.weight", "layers.0.bias": "0.bias", "layers.1.weight": "2.weight", …}``.

    Weights are transposed between the two: ours are (in, out), torch's (out, in). Needs no torch.
    """
    return _names(_plan_of_model(model))


def _build(torch, plan, dtype):
    nn = torch.nn
    tdtype = {"float32": torch.float32, "float64": torch.float64}[str(np.dtype(dtype))]
    mods = []
    for step in plan:
        if step[0] == "linear":
            mods.append(nn.Linear(step[2], step[3], dtype=tdtype))
        elif step[1] == "softmax":
            mods.append(nn.Softmax(dim=-1))
        else:
            mods.append(getattr(nn, _TO_TORCH_ACT[step[1]])())
    return nn.Sequential(*mods)


# ----------------------------------------------------------------------------- to torch


def to_torch(model):
    """A ``torch.nn.Sequential`` computing the same function as ``model`` (an ``MLP``).

    Each microgradnet layer becomes ``nn.Linear`` followed by its activation module
    (``nn.Sigmoid``, ``nn.ReLU``, ``nn.Tanh``, ``nn.Softmax(dim=-1)``; none for a layer without
    one). Parameter names map one to one — ``layers.i.weight`` → ``k.weight`` and
    ``layers.i.bias`` → ``k.bias`` where ``k`` is the module's index (``2i`` when every layer
    has an activation); see :func:`name_map`. ``layers.i.weight`` has shape (in, out) and
    torch's ``k.weight`` (out, in): the matrix is transposed explicitly. The dtype (float32 or
    float64) is kept, the values are copied exactly, and the module is in training mode with
    gradients on, ready for a ``torch.optim`` optimizer. NaN or infinite weights (a training
    run that diverged) are an :class:`ExportError` naming the parameter.
    """
    torch = _torch()
    plan = _plan_of_model(model)
    params = dict(model.named_parameters())
    dtypes = {str(p.data.dtype) for p in params.values()}
    if len(dtypes) != 1 or not dtypes <= _FLOATS:
        raise ExportError(
            f"to_torch: the parameters must all be float32 or all float64, found {sorted(dtypes)}"
        )
    for name, p in params.items():
        problem = describe_nonfinite(name, p.data)
        if problem:
            raise ExportError(
                f"to_torch: {problem}: the exported network would compute NaN; "
                "train it again with a smaller learning rate"
            )
    seq = _build(torch, plan, dtypes.pop())
    state = OrderedDict()
    for ours, theirs in _names(plan).items():
        value = params[ours].data
        if ours.endswith(".weight"):
            value = value.T  # (in, out) -> (out, in)
        state[theirs] = torch.from_numpy(np.array(value, copy=True, order="C"))
    seq.load_state_dict(state, strict=True)
    return seq


# ----------------------------------------------------------------------------- from torch


def from_torch(obj, *, activation=None, output_activation="same"):
    """An ``MLP`` with the weights of ``obj``: a ``torch.nn.Sequential`` or its ``state_dict``.

    A Sequential must be ``nn.Linear`` layers, each followed by at most one of ``nn.Sigmoid``,
    ``nn.ReLU``, ``nn.Tanh`` (the same one after every hidden layer, as in an MLP), with
    ``nn.Softmax`` allowed only after the last Linear and ``nn.Identity`` anywhere. Anything
    else — ``Conv2d``, ``BatchNorm1d``, ``Dropout``, two activations in a row, Linear sizes that
    do not chain — is an :class:`ExportError` naming the module's index and type.

    A ``state_dict`` (``{"0.weight": …, "0.bias": …, "2.weight": …}``) carries no activations:
    give them as ``activation=`` (the hidden layers', required) and ``output_activation=``
    (default: the same). A checkpoint written by :func:`save_torch` (``{"state_dict", "config"}``)
    needs neither. Weights are transposed back to (in, out); a Linear without a bias gets a bias
    of zeros. ``from_torch(to_torch(m))`` has exactly ``m``'s weights.
    """
    torch = _torch()
    if isinstance(obj, torch.nn.Sequential):
        if activation is not None or output_activation != "same":
            raise ExportError(
                "from_torch: activation= and output_activation= are for a state_dict; a "
                "Sequential carries its own activation modules"
            )
        sizes, hidden, out, layers = _read_sequential(torch, obj)
    elif isinstance(obj, torch.nn.Module):
        raise ExportError(
            f"from_torch: expected a torch.nn.Sequential (or its state_dict), got the module "
            f"{type(obj).__name__}; wrap its layers in nn.Sequential, or rebuild it"
        )
    elif isinstance(obj, dict) and "state_dict" in obj and "config" in obj:
        config = obj["config"]
        if not isinstance(config, dict) or "activation" not in config:
            raise ExportError("from_torch: the checkpoint's config is not a microgradnet MLP config")
        return from_torch(
            obj["state_dict"],
            activation=config["activation"],
            output_activation=config.get("output_activation", "same"),
        )
    elif isinstance(obj, dict):
        if activation is None:
            raise ExportError(
                'from_torch: a state_dict holds no activations; pass activation="sigmoid" '
                '(or "relu", "tanh", "none") and, if the output differs, output_activation='
            )
        sizes, layers = _read_state_dict(torch, obj)
        hidden = activation
        out = activation if output_activation == "same" else output_activation
    else:
        raise ExportError(
            f"from_torch: expected a torch.nn.Sequential or a state_dict, got {type(obj).__name__}"
        )

    from ..nn import MLP

    dtypes = {str(w.dtype).replace("torch.", "") for w, _ in layers}
    if len(dtypes) != 1 or not dtypes <= _FLOATS:
        raise ExportError(
            f"from_torch: the Linear weights must all be float32 or all float64, found {sorted(dtypes)}"
        )
    model = MLP(sizes, activation=hidden or "none", output_activation=out or "none", dtype=dtypes.pop())
    for layer, (w, b) in zip(model.layers, layers):
        w = w.detach().cpu().numpy()
        layer.weight.data[...] = w.T  # (out, in) -> (in, out)
        layer.bias.data[...] = 0 if b is None else b.detach().cpu().numpy()
    return model


def _read_sequential(torch, seq):
    """Check a Sequential module by module: (sizes, hidden activation, output activation, [(W, b)])."""
    nn = torch.nn
    children = list(seq.named_children())
    linears: list[tuple[str, Any]] = []  # (name, torch Linear)
    acts: list[str | None] = []  # the activation after each Linear, if any
    where_act: list[str | None] = []
    for pos, (name, m) in enumerate(children):
        kind = type(m).__name__
        where = f"layer {name} ({kind})"
        if isinstance(m, nn.Linear):
            if linears and m.in_features != linears[-1][1].out_features:
                prev_name, prev = linears[-1]
                raise ExportError(
                    f"from_torch: {where} takes {m.in_features} inputs but layer {prev_name} "
                    f"(Linear) gives {prev.out_features}: the sizes do not chain"
                )
            linears.append((name, m))
            acts.append(None)
            where_act.append(None)
        elif isinstance(m, nn.Identity):
            continue
        elif kind in _FROM_TORCH_ACT and type(m) is getattr(nn, kind):
            if not linears:
                raise ExportError(
                    f"from_torch: {where} comes before any Linear layer; an MLP starts with Linear"
                )
            if acts[-1] is not None:
                raise ExportError(
                    f"from_torch: {where} follows another activation ({acts[-1]}): two "
                    "activations in a row have no MLP equivalent"
                )
            if kind == "Softmax":
                if m.dim not in (-1, 1, None):
                    raise ExportError(
                        f"from_torch: {where} uses dim={m.dim}; only the last axis (dim=-1) maps"
                    )
                rest = [c for _, c in children[pos + 1 :] if not isinstance(c, nn.Identity)]
                if rest:
                    raise ExportError(
                        f"from_torch: {where} is not at the end; Softmax maps only as the output activation"
                    )
            acts[-1] = _FROM_TORCH_ACT[kind]
            where_act[-1] = where
        else:
            hint = (
                " (Dropout only acts in training; remove it before converting)" if "Dropout" in kind else ""
            )
            raise ExportError(
                f"from_torch: {where} has no microgradnet equivalent{hint}; an MLP is Linear "
                "layers each followed by at most one of Sigmoid, ReLU, Tanh (Softmax or Identity "
                "at the end)"
            )
    if not linears:
        raise ExportError("from_torch: the Sequential has no Linear layer")
    hidden = acts[:-1]
    for k in range(1, len(hidden)):
        if hidden[k] != hidden[0]:
            # where_act[k] names the activation module after Linear k (or, with none, the next Linear)
            there = (
                where_act[k]
                if hidden[k]
                else f"layer {linears[k + 1][0]} (Linear) follows Linear {linears[k][0]}"
            )
            raise ExportError(
                f"from_torch: {there}: {hidden[k] or 'no activation'}, but the first hidden layer "
                f"uses {hidden[0] or 'no activation'}; a microgradnet MLP has one activation for "
                "all hidden layers"
            )
    sizes = [linears[0][1].in_features] + [m.out_features for _, m in linears]
    out = acts[-1]
    layers = [(m.weight, m.bias) for _, m in linears]
    return sizes, (hidden[0] if hidden else out), out, layers


_KEY = re.compile(r"(\d+)\.(weight|bias)")


def _read_state_dict(torch, state):
    groups: dict[int, dict] = {}
    for key, value in state.items():
        m = _KEY.fullmatch(str(key))
        if not m:
            raise ExportError(
                f"from_torch: state_dict entry {key!r} is not the weight or bias of a Linear "
                "layer (BatchNorm, Conv2d and other layers have no microgradnet equivalent)"
            )
        if not isinstance(value, torch.Tensor):
            raise ExportError(
                f"from_torch: state_dict entry {key!r} is a {type(value).__name__}, not a tensor"
            )
        groups.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if not groups:
        raise ExportError("from_torch: the state_dict is empty")
    layers: list[tuple[Any, Any]] = []  # (weight, bias) torch tensors
    sizes: list[int] = []
    for idx in sorted(groups):
        g = groups[idx]
        w, b = g.get("weight"), g.get("bias")
        if w is None:
            raise ExportError(f"from_torch: layer {idx} has a bias but no weight")
        if w.ndim != 2:
            raise ExportError(
                f"from_torch: layer {idx}'s weight has shape {tuple(w.shape)}, not (out, in): "
                "not a Linear layer (a Conv2d weight is 4-D)"
            )
        if b is not None and tuple(b.shape) != (w.shape[0],):
            raise ExportError(
                f"from_torch: layer {idx}'s bias has shape {tuple(b.shape)} but its weight "
                f"{tuple(w.shape)} has {w.shape[0]} outputs"
            )
        if sizes and w.shape[1] != sizes[-1]:
            raise ExportError(
                f"from_torch: layer {idx} (Linear) takes {w.shape[1]} inputs but the layer "
                f"before gives {sizes[-1]}: the sizes do not chain"
            )
        if not sizes:
            sizes.append(int(w.shape[1]))
        sizes.append(int(w.shape[0]))
        layers.append((w, b))
    return sizes, layers


# ----------------------------------------------------------------------------- files


def save_torch(model, path) -> Path:
    """Write ``model`` (an MLP) as a PyTorch checkpoint ``{"state_dict": …, "config": …}``.

    ``state_dict`` is :func:`to_torch`'s (torch names and layout), ``config`` the MLP's
    ``config()`` plus ``format`` and ``name_map``. Written atomically (temporary file, then
    rename); a model with NaN or infinite weights is refused (:func:`to_torch`). Read it back with :func:`load_torch`, or in plain PyTorch with
    ``torch.load(path)`` (see ``docs/outgrowing.md``).
    """
    torch = _torch()
    if not hasattr(model, "config"):
        raise ExportError(f"save_torch: can only save an MLP, not {type(model).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise ModelFileError(f"save_torch: the folder {path.parent} does not exist")
    seq = to_torch(model)
    config = dict(model.config(), format=CHECKPOINT_FORMAT, name_map=name_map(model))
    buffer = io.BytesIO()  # torch turns a failed write (a full disk) into a RuntimeError
    torch.save({"state_dict": seq.state_dict(), "config": config}, buffer)
    return write_bytes(path, buffer.getbuffer())


def load_torch(path):
    """The ``torch.nn.Sequential`` saved by :func:`save_torch` (or ``microgradnet export --to torch``).

    Loaded with ``torch.load(..., weights_only=True)``: the file can hold only tensors and
    plain values, no code.
    """
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such checkpoint file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise ModelFileError(f"{path}: not a readable PyTorch checkpoint: {e}") from None
    if not (
        isinstance(ckpt, dict)
        and isinstance(ckpt.get("config"), dict)
        and ckpt["config"].get("format") == CHECKPOINT_FORMAT
        and "state_dict" in ckpt
    ):
        raise ModelFileError(
            f"{path}: not a microgradnet checkpoint (expected {{'state_dict', 'config'}} "
            f"of format {CHECKPOINT_FORMAT})"
        )
    config = ckpt["config"]
    try:
        seq = _build(torch, _plan_of_config(config), config["dtype"])
        seq.load_state_dict(ckpt["state_dict"], strict=True)
    except (KeyError, RuntimeError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: the checkpoint does not describe a valid MLP: {e}") from None
    return seq
