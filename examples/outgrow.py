"""Outgrowing microgradnet: train here, keep training in PyTorch, serve with onnxruntime.

    pip install "microgradnet[torch,onnx]"
    python examples/outgrow.py [--epochs 3] [--torch-epochs 3] [--out digits.onnx]

One network, three engines: microgradnet trains it for a few epochs on the embedded 8x8
digits, PyTorch carries on from exactly those weights, and the result is written as ONNX
and answered by onnxruntime. The accuracy is printed at each stage.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

import microgradnet as mg
from microgradnet import export

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=3, help="epochs in microgradnet")
parser.add_argument("--torch-epochs", type=int, default=3, help="epochs in PyTorch")
parser.add_argument("--out", help="where to write the ONNX file (default: a temporary folder)")
args = parser.parse_args()

try:
    import onnxruntime as ort
    import torch
except ImportError as e:
    raise SystemExit(
        f'this example needs PyTorch and onnxruntime: pip install "microgradnet[torch,onnx]" ({e})'
    ) from None

train, test = mg.datasets.load_digits()  # 1,437 / 360 images of 8x8 = 64 pixels
y_train = mg.data.one_hot(train.y, 10)  # the wanted outputs: 1 for the right digit


def accuracy(outputs):
    return float((np.asarray(outputs).argmax(axis=1) == test.y).mean())


# 1. microgradnet: the 3Blue1Brown network, sigmoid everywhere, squared-error cost, plain SGD.
model = mg.nn.MLP([64, 32, 10], activation="sigmoid", seed=0)
opt = mg.optim.SGD(model.parameters(), lr=3.0)
for epoch in range(args.epochs):
    for xb, yb in mg.data.batches((train.x, y_train), batch_size=10, shuffle=True, seed=epoch):
        cost = ((model(xb) - yb) ** 2).sum(1).mean()  # the same cost as mg.squared_error
        opt.zero_grad()
        cost.backward()
        opt.step()
with mg.no_grad():
    print(f"microgradnet, {args.epochs} epochs:  test accuracy {accuracy(model(test.x).data):.1%}")

# 2. PyTorch: the same weights (transposed to torch's (out, in) layout), the same cost and
#    optimizer, now written in torch. From here on every torch tool applies.
net = export.to_torch(model)  # Sequential(Linear, Sigmoid, Linear, Sigmoid)
print("  parameter names:", ", ".join(f"{a} -> {b}" for a, b in export.name_map(model).items()))
torch.set_num_threads(1)  # a network this small runs fastest on one thread
topt = torch.optim.SGD(net.parameters(), lr=3.0)
x_all, y_all = torch.from_numpy(train.x), torch.from_numpy(y_train)
g = torch.Generator().manual_seed(0)
for _epoch in range(args.torch_epochs):
    for idx in torch.randperm(len(x_all), generator=g).split(10):
        cost = ((net(x_all[idx]) - y_all[idx]) ** 2).sum(1).mean()
        topt.zero_grad()
        cost.backward()
        topt.step()
with torch.no_grad():
    torch_out = net(torch.from_numpy(test.x)).numpy()
print(f"PyTorch, {args.torch_epochs} more epochs: test accuracy {accuracy(torch_out):.1%}")

# 3. Back to microgradnet (its pictures and tools work on the torch-trained weights), then
#    ONNX: one traced forward pass, the recorded graph written with a dynamic batch size.
back = export.from_torch(net)
with tempfile.TemporaryDirectory() as tmp:
    path = export.to_onnx(back, args.out or Path(tmp) / "digits.onnx", test.x[:1])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
served = session.run(None, {"input": test.x})[0]  # all 360 test images in one batch
print(f"onnxruntime ({path.name}):  test accuracy {accuracy(served):.1%}")
print(f"  largest difference from PyTorch's outputs: {np.abs(served - torch_out).max():.1e}")
