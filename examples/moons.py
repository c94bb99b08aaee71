"""Two interleaving half-moons: a ReLU network with cross-entropy learns a curved boundary.

python examples/moons.py [--plot moons.png]
"""

import argparse

import numpy as np

import microgradnet as mg

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--plot", help="save the decision boundary as an image (needs matplotlib)")
args = parser.parse_args()


def make_moons(n, noise=0.15, seed=0):
    """n points on two half circles, one shifted and flipped, with Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return (x + rng.normal(0, noise, x.shape)).astype(np.float32), label


x, y = make_moons(600)
train = mg.data.Dataset(x[:500], y[:500], name="moons-train")
test = mg.data.Dataset(x[500:], y[500:], name="moons-test")

# Raw scores out (no output activation): cross_entropy applies the softmax itself.
model = mg.nn.MLP([2, 16, 16, 2], activation="relu", output_activation=None, seed=0)
opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
history = mg.fit(
    model,
    train,
    epochs=args.epochs,
    batch_size=20,
    loss="cross_entropy",
    optimizer=opt,
    test=test,
    progress=False,
)
print(f"cost {history.cost[0]:.3f} -> {history.cost[-1]:.3f}")
print("test:", mg.evaluate(model, test, loss="cross_entropy"))

if args.plot:
    from matplotlib.figure import Figure

    gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1, 1.5, 150))
    grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
    with mg.no_grad():
        p = model(grid).softmax().data[:, 1].reshape(gx.shape)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.contourf(gx, gy, p, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.2)
    ax.set_title("probability of the second moon")
    fig.savefig(args.plot, dpi=100)
    print(f"wrote {args.plot}")
