"""The network of 3Blue1Brown's videos: 784 pixels -> 16 -> 16 -> 10 digits, sigmoid neurons,
the sum of squared differences as the cost, stochastic gradient descent on mini-batches of 10.

    python examples/mnist_3blue1brown.py                      # downloads MNIST once (11 MB)
    python examples/mnist_3blue1brown.py --data-dir DIR       # IDX files already on disk
    python examples/mnist_3blue1brown.py --data-dir DIR --split-test-set 8000
                                  # only the 10,000 test digits on disk: train on 8,000 of them
"""

import argparse

import microgradnet as mg

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", help="folder holding the MNIST IDX files")
parser.add_argument(
    "--split-test-set", type=int, metavar="N", help="train on the first N test digits and test on the rest"
)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--limit", type=int, help="use only this many training images (quick runs)")
parser.add_argument("--lr", type=float, default=3.0)
args = parser.parse_args()

if args.split_test_set:
    train, test = mg.datasets.load_mnist(args.data_dir, split="test").split(args.split_test_set)
else:
    train, test = mg.datasets.load_mnist(args.data_dir)
if args.limit:
    train = train[: args.limit]
print(f"{len(train):,} training digits, {len(test):,} test digits")

model = mg.nn.MLP([784, 16, 16, 10], activation="sigmoid", seed=0)
print(model.summary())  # 13,002 weights and biases

# One epoch = one pass over the shuffled training digits, 10 at a time. For each mini-batch:
# the cost averaged over the 10 digits, backpropagation, one step downhill of size lr.
history = mg.fit(
    model,
    train,
    epochs=args.epochs,
    lr=args.lr,
    batch_size=10,
    test=test,
    callback=lambda e, h: print(f"epoch {e + 1}: test accuracy {h.test_accuracy[-1]:.2%}"),
)
print("final:", mg.evaluate(model, test))
