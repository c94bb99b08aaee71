"""``microgradnet export``: a saved model to ONNX or to a PyTorch checkpoint."""

from __future__ import annotations

from pathlib import Path

from .common import UsageError, load_model

TARGETS = {"onnx": ".onnx", "torch": ".pt"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write a saved model as ONNX (for onnxruntime) or a PyTorch checkpoint",
        description="Export a model file written by 'train --out'. --to onnx writes an ONNX graph with a "
        "dynamic batch size (needs microgradnet[onnx]); --to torch writes a .pt file holding "
        "{'state_dict', 'config'} for torch.nn.Sequential, loaded back with "
        "microgradnet.export.load_torch (needs microgradnet[torch]).",
    )
    p.add_argument("model", help="model file (.npz) written by 'train --out'")
    # Checked in run() rather than with choices=, so a wrong value is one line like every other error.
    p.add_argument("--to", required=True, metavar="{onnx,torch}", help="the format to write")
    p.add_argument(
        "--out", metavar="PATH", help="where to write (default: the model's name with .onnx or .pt)"
    )
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.set_defaults(func=run)


def run(args) -> int:
    target = args.to.strip().lower()
    if target not in TARGETS:
        raise UsageError(f"--to must be onnx or torch, got {args.to!r}")
    out = Path(args.out) if args.out else Path(args.model).with_suffix(TARGETS[target])
    if not out.resolve().parent.is_dir():
        raise UsageError(f"--out: the folder {out.parent} does not exist")
    if out.is_dir():
        raise UsageError(f"--out: {out} is a folder; give a file name")
    # Check for the extra before reading the model, so a missing install is the first thing said.
    if target == "onnx":
        from ..export.onnx_export import SUPPORTED_OPSETS, _onnx

        _onnx()
        if args.opset not in SUPPORTED_OPSETS:
            raise UsageError(
                f"--opset must be one of {', '.join(map(str, SUPPORTED_OPSETS))}, got {args.opset}"
            )
    else:
        from ..export.torch_bridge import _torch

        _torch()
    model = load_model(args.model)

    if target == "onnx":
        import numpy as np

        from ..export import to_onnx
        from ..export.onnx_export import ir_version_for

        example = np.zeros((1, model.sizes[0]), dtype=model.dtype)
        to_onnx(model, out, example, opset=args.opset)
        print(
            f"wrote {out}: ONNX opset {args.opset} (IR {ir_version_for(args.opset)}), input 'input' "
            f"[batch, {model.sizes[0]}] {model.dtype} -> output 'output' [batch, {model.sizes[-1]}]"
        )
    else:
        from ..export import save_torch

        save_torch(model, out)
        print(
            f"wrote {out}: PyTorch checkpoint {{'state_dict', 'config'}} of a "
            f"{'-'.join(map(str, model.sizes))} {model.dtype} MLP; load it with "
            "microgradnet.export.load_torch(path)"
        )
    return 0
