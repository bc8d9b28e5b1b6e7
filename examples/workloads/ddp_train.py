"""Data-parallel training with torchrun + DistributedDataParallel, following gpupool's contract.

Run under torchrun (the operator sets every torchrun variable). What it does with gpupool's own:
- GPUPOOL_LOCAL_BATCH_SIZE: the samples this worker (pod) takes from each global batch, sized by
  the planner to its GPU's speed; GPUPOOL_BATCH_SHARE is the same as a fraction (logged). A pod
  with several processes (GPUs) splits its share evenly between them.
- GPUPOOL_CHECKPOINT_URI: rank 0 writes a checkpoint there every --checkpoint-every steps and every
  GPUPOOL_CHECKPOINT_INTERVAL_SECONDS, atomically (temporary file, then rename), and points
  "latest" at it.
- GPUPOOL_RESUME_FROM: set by the operator when it restarts a gang; every rank loads the latest
  checkpoint found there and continues from the step after it. When torchrun itself restarts the
  workers (an elastic group re-forming after losing a node), they resume from
  GPUPOOL_CHECKPOINT_URI the same way.

Unequal local batches still give the gradient of the whole global batch: each rank's loss is its
summed per-sample loss over the global batch size, scaled by the world size that DDP's all-reduce
averages over. The data of step N depends only on the seed and N, the model is float64 and torch
runs with deterministic algorithms, so on CPU a run that resumes from a checkpoint ends with the
parameters an uninterrupted run ends with (to float64 rounding of the gradient sum).
"""

import argparse
import hashlib
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import gpupool_contract as contract

FEATURES = 16
HIDDEN = 16
DATASET = 4096


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="optimizer steps in the whole run")
    p.add_argument("--checkpoint-every", type=int, default=10, help="steps between checkpoints")
    p.add_argument("--step-seconds", type=float, default=0.0, help="pause after each step")
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=1234)
    return p.parse_args(argv)


def log(rank, message):
    print(f"[rank {rank}] {message}", flush=True)


def dataset(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(DATASET, FEATURES, generator=g, dtype=torch.float64)
    w1 = torch.randn(FEATURES, 8, generator=g, dtype=torch.float64)
    w2 = torch.randn(8, 1, generator=g, dtype=torch.float64)
    y = torch.tanh(x @ w1) @ w2 + 0.01 * torch.randn(DATASET, 1, generator=g, dtype=torch.float64)
    return x, y


def model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1)
    ).double()


def batch_indices(seed, step, global_batch):
    """The global batch of step `step`: depends on nothing else, so a resumed run sees the same."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    return torch.randperm(DATASET, generator=g)[:global_batch]


def my_batch_size(rank):
    """This process's samples per step: its pod's GPUPOOL_LOCAL_BATCH_SIZE split over its GPUs."""
    pod_batch = contract.env_int(contract.LOCAL_BATCH_SIZE)
    if pod_batch < 1:
        raise SystemExit(f"{contract.LOCAL_BATCH_SIZE}={pod_batch} must be at least 1")
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    size = pod_batch // local_world + (1 if local_rank < pod_batch % local_world else 0)
    if size < 1:
        raise SystemExit(f"rank {rank}: local batch {pod_batch} is smaller than {local_world} GPUs")
    return size


def latest_checkpoint(directory):
    pointer = directory / "latest"
    if not pointer.exists():
        return None
    return directory / pointer.read_text().strip()


def save_checkpoint(directory, step, net, optimizer, rank):
    directory.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:06d}.pt"
    tmp = directory / (name + ".tmp")
    torch.save({"step": step, "model": net.state_dict(), "optimizer": optimizer.state_dict()}, tmp)
    os.replace(tmp, directory / name)
    pointer_tmp = directory / "latest.tmp"
    pointer_tmp.write_text(name + "\n")
    os.replace(pointer_tmp, directory / "latest")
    log(rank, f"checkpoint step {step} saved to {directory / name}")


def parameters_vector(net):
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def main(argv):
    args = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    local_batch = my_batch_size(rank)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
    dist.all_gather(sizes, torch.tensor([local_batch], dtype=torch.int64))
    sizes = [int(s.item()) for s in sizes]
    global_batch = sum(sizes)
    offset = sum(sizes[:rank])
    share = contract.env_float(contract.BATCH_SHARE, default=local_batch / global_batch)
    log(
        rank,
        f"world {world} gpu {contract.env(contract.GPU_MODEL, 'unknown')} batch share {share:.6f}"
        f" local batch {local_batch} of global {global_batch} (samples {offset}..{offset + local_batch - 1})",
    )

    x, y = dataset(args.seed)
    net = model(args.seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    start = 0
    resume = contract.env(contract.RESUME_FROM)
    if not resume and int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0:
        # torchrun restarted this worker (an elastic group re-formed without the operator):
        # continue from this job's own checkpoints
        resume = contract.env(contract.CHECKPOINT_URI)
    if resume:
        found = latest_checkpoint(contract.local_path(resume))
        if found is None:
            log(rank, f"resume: no checkpoint in {resume} yet, starting at step 0")
        else:
            state = torch.load(found)
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start = state["step"]
            log(rank, f"resumed from checkpoint step {start} ({found})")
    ddp = DistributedDataParallel(net)

    checkpoint_uri = contract.env(contract.CHECKPOINT_URI)
    checkpoint_dir = contract.local_path(checkpoint_uri) if checkpoint_uri else None
    interval = contract.env_int(contract.CHECKPOINT_INTERVAL, default=600)
    last_save = time.monotonic()
    for step in range(start + 1, args.steps + 1):
        idx = batch_indices(args.seed, step, global_batch)[offset : offset + local_batch]
        optimizer.zero_grad()
        out = ddp(x[idx])
        summed = ((out - y[idx]) ** 2).sum()
        # DDP averages gradients over `world` ranks: scale so the result is the global-batch mean.
        (summed * world / global_batch).backward()
        optimizer.step()
        log(rank, f"step {step} loss {summed.item() / local_batch:.6f}")
        due = step % args.checkpoint_every == 0 or time.monotonic() - last_save >= interval
        if checkpoint_dir is not None and due and step < args.steps:
            if rank == 0:
                save_checkpoint(checkpoint_dir, step, net, optimizer, rank)
            dist.barrier()
            last_save = time.monotonic()
        if args.step_seconds > 0:
            time.sleep(args.step_seconds)

    params = parameters_vector(net)
    digest = hashlib.sha256(params.numpy().tobytes()).hexdigest()[:16]
    log(rank, f"final parameters sha256 {digest} norm {params.norm().item():.12f}")
    if checkpoint_dir is not None and rank == 0:
        save_checkpoint(checkpoint_dir, args.steps, net, optimizer, rank)
        # For comparing runs without torch: every parameter, in order, as JSON numbers.
        (checkpoint_dir / "final-parameters.json").write_text(json.dumps(params.tolist()) + "\n")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
