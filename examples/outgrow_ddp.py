"""Outgrow microgradnet for real: train here, continue on several processes with PyTorch's
DistributedDataParallel, and bring the network back.

    pip install "microgradnet[torch]"
    torchrun --standalone --nproc_per_node=2 examples/outgrow_ddp.py [--epochs 3] [--ddp-epochs 3]

On several machines, start the same command on each with the number of machines, this
machine's rank and the address of machine 0 (see docs/outgrowing.md):

    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=2 \\
             --master_addr=10.0.0.1 --master_port=29500 examples/outgrow_ddp.py

1. Rank 0 trains the 3Blue1Brown network (sigmoid, squared error, SGD) in microgradnet on the
   embedded 8x8 digits and scores it: the accuracy *before*.
2. Every process exports that architecture with ``mg.export.to_torch`` and wraps it in
   ``torch.nn.parallel.DistributedDataParallel`` (CPU, the gloo backend). DDP starts every
   replica from rank 0's weights, so the other ranks begin where microgradnet stopped.
3. Each process trains on its own shard of the training set (``DistributedSampler``); after
   every backward pass DDP averages the gradients over all processes, so the replicas take
   the same step and stay identical.
4. Rank 0 brings the weights back with ``mg.export.from_torch`` and scores them in
   microgradnet: the accuracy *after*.
"""

import argparse
import os

import numpy as np

import microgradnet as mg
from microgradnet import export

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=3, help="epochs in microgradnet, on rank 0")
parser.add_argument("--ddp-epochs", type=int, default=3, help="epochs under DistributedDataParallel")
parser.add_argument(
    "--max-steps", type=int, default=None, help="stop DDP after this many steps (a quick run)"
)
parser.add_argument("--lr", type=float, default=3.0, help="learning rate, in both engines")
parser.add_argument("--batch-size", type=int, default=10, help="images per process per step")
parser.add_argument("--out", help="rank 0 saves the network it brought back here (.npz)")
args = parser.parse_args()

try:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
except ImportError as e:
    raise SystemExit(f'this example needs PyTorch: pip install "microgradnet[torch]" ({e})') from None

if "RANK" not in os.environ:
    raise SystemExit(
        "start this example with torchrun, which runs one process per rank and tells each its rank:\n"
        "  torchrun --standalone --nproc_per_node=2 examples/outgrow_ddp.py"
    )

torch.set_num_threads(1)  # one thread per process: the processes are the parallelism here
dist.init_process_group("gloo")  # CPU; torchrun's environment says who and where everyone is
rank, world = dist.get_rank(), dist.get_world_size()


def say(*text):
    if rank == 0:
        print(*text, flush=True)


train, test = mg.datasets.load_digits()  # every process holds the data; the sampler shards it
sizes = [64, 16, 16, 10]

# 1. microgradnet, on rank 0: the same loop as the README's, the cost mg.squared_error.
model = mg.nn.MLP(sizes, activation="sigmoid", seed=0)
if rank == 0:
    mg.fit(model, train, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, seed=0, progress=False)
    before = mg.evaluate(model, test)
    say(f"microgradnet, {args.epochs} epochs on rank 0: test accuracy {before.accuracy:.2%}")

# 2. To PyTorch: the weights transposed from our (in, out) to torch's (out, in) layout. The
#    other ranks export an untrained copy of the same architecture: DDP's constructor
#    broadcasts rank 0's parameters to them, so all replicas start from microgradnet's weights.
net = export.to_torch(model)
ddp = DistributedDataParallel(net)
say(f"DistributedDataParallel: {world} processes (gloo), each starts from rank 0's weights")

# 3. Each process its shard: the sampler deals the shuffled indices out rank by rank.
data = TensorDataset(torch.from_numpy(train.x), torch.from_numpy(mg.data.one_hot(train.y, 10)))
sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=0)
loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
print(f"  rank {rank}: {len(sampler)} of the {len(data)} training images per epoch", flush=True)
opt = torch.optim.SGD(ddp.parameters(), lr=args.lr)
steps, seen = 0, torch.zeros((), dtype=torch.int64)
for epoch in range(args.ddp_epochs):
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
    for xb, yb in loader:
        cost = ((ddp(xb) - yb) ** 2).sum(1).mean()  # = mg.squared_error, on this rank's batch
        opt.zero_grad()
        cost.backward()  # DDP averages the gradients over all ranks here
        opt.step()
        steps, seen = steps + 1, seen + len(xb)
        if args.max_steps is not None and steps >= args.max_steps:
            break
    if args.max_steps is not None and steps >= args.max_steps:
        break
dist.all_reduce(seen)  # summed over the ranks
say(f"DDP: {steps} steps per process, {int(seen):,} images seen by the {world} processes together")

# The replicas took the same averaged steps, so their weights agree (checked, not assumed).
flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
reference = flat.clone()
dist.broadcast(reference, src=0)
spread = (flat - reference).abs().max()
dist.all_reduce(spread, op=dist.ReduceOp.MAX)
say(f"  the {world} replicas agree: largest difference from rank 0's weights {spread.item():.1e}")

# 4. Back to microgradnet on rank 0, where its pictures and tools work on the new weights.
if rank == 0:
    back = export.from_torch(net)
    after = mg.evaluate(back, test)
    moved = max(float(np.abs(a.data - b.data).max()) for a, b in zip(model.parameters(), back.parameters()))
    say(f"back in microgradnet after DDP: test accuracy {after.accuracy:.2%} (before: {before.accuracy:.2%})")
    say(f"  largest weight change made under DDP: {moved:.3f}")
    if args.out:
        say(f"  saved {mg.save(back, args.out)}")

dist.destroy_process_group()
