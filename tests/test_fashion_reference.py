"""Acceptance: one epoch on Fashion-MNIST lands where PyTorch lands.

784-16-16-10, sigmoid everywhere, squared-error cost, plain SGD (lr 3.0, batch 10): trained
once with ``mg.fit`` and once with PyTorch from the same initial weights over the same
batches in the same order, the two test accuracies agree within 2 percentage points.
"""

import pytest
from conftest import FASHION_DIR, require, require_path

import microgradnet as mg
from microgradnet.data import batches

LR = 3.0
BATCH = 10
SEED = 0


@pytest.mark.slow
def test_one_epoch_matches_pytorch_within_two_points():
    torch = require("torch")
    root = require_path(FASHION_DIR, "Fashion-MNIST (Debian's dataset-fashion-mnist)")
    train, test = mg.datasets.load_fashion_mnist(root=root, download=False, progress=False)
    assert len(train) == 60000 and len(test) == 10000

    model = mg.nn.MLP([784, 16, 16, 10], activation="sigmoid", seed=SEED)
    start = [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model.layers]

    history = mg.fit(model, train, epochs=1, lr=LR, batch_size=BATCH, seed=SEED, progress=False, test=test)
    mg_acc = history.test_accuracy[0]

    # The same network in PyTorch, from the same weights (torch keeps W as (out, in)).
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # tiny matrices: threads only add waiting on a busy machine
    layers = []
    for w, b in start:
        lin = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.Sigmoid()]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    eye = torch.eye(10)
    # fit's first epoch walks batches(..., shuffle=True, seed=seed + 0): the same order here
    for xb, yb in batches(train, BATCH, shuffle=True, seed=SEED):
        out = net(torch.from_numpy(xb))
        cost = ((out - eye[torch.from_numpy(yb)]) ** 2).sum() / len(yb)  # C = Σ (a − y)² / N
        opt.zero_grad()
        cost.backward()
        opt.step()
    with torch.no_grad():
        pred = net(torch.from_numpy(test.x)).argmax(dim=1).numpy()
    torch_acc = float((pred == test.y).mean())

    assert torch_acc > 0.6, f"the PyTorch reference itself did not learn ({torch_acc:.1%})"
    assert abs(mg_acc - torch_acc) <= 0.02, (
        f"microgradnet {mg_acc:.2%} vs PyTorch {torch_acc:.2%} after one epoch"
    )
