"""Take a microgradnet model further: to PyTorch (and back) and to ONNX.

* :func:`to_torch` turns an ``MLP`` into a ``torch.nn.Sequential`` with the same weights and
  dtype; :func:`from_torch` turns such a Sequential (or its ``state_dict``) back into an MLP.
  :func:`name_map` lists how the parameter names correspond (``layers.0.weight`` ↔
  ``0.weight``); the weight matrices are stored transposed on the PyTorch side.
* :func:`save_torch` / :func:`load_torch` write and read a ``.pt`` checkpoint
  (``{"state_dict": ..., "config": ...}``) that plain PyTorch code can load too.
* :func:`to_onnx` runs one forward pass through the engine and writes the recorded graph
  as an ONNX model, for serving with onnxruntime or any other ONNX runtime.

torch and onnx are optional: they are imported only when these functions run, and a
missing one is a clear ``ImportError`` naming the extra to install
(``pip install "microgradnet[torch]"`` or ``"microgradnet[onnx]"``).
"""

from .onnx_export import SUPPORTED_OPSETS, to_onnx
from .torch_bridge import ExportError, from_torch, load_torch, name_map, save_torch, to_torch

__all__ = [
    "to_torch",
    "from_torch",
    "name_map",
    "save_torch",
    "load_torch",
    "to_onnx",
    "SUPPORTED_OPSETS",
    "ExportError",
]
