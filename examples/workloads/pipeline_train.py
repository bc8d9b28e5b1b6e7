"""Pipeline-parallel training: each pod builds only its stage's layers and passes activations on.

Run under torchrun with one process per pod (gpusPerWorker 1). From gpupool's contract it reads
GPUPOOL_STAGE_INDEX, GPUPOOL_STAGE_COUNT and its layer range GPUPOOL_FIRST_LAYER..GPUPOOL_LAST_LAYER
(inclusive; the planner sizes it to the GPU), and GPUPOOL_LOCAL_BATCH_SIZE as the micro-batch.
Stage s receives activations from stage s-1 (torch.distributed send/recv over gloo on CPU, NCCL on
GPUs), runs its layers and sends the result to stage s+1; the last stage computes the loss and the
gradients flow back the same way. Layer i's initial weights depend only on the seed and i, so a
split into other stages trains the same model.
"""

import argparse
import sys
import time

import torch
import torch.distributed as dist

import gpupool_contract as contract

WIDTH = 32


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--step-seconds", type=float, default=0.0)
    return p.parse_args(argv)


def layer(seed, index):
    torch.manual_seed(seed * 10_007 + index)
    return torch.nn.Sequential(torch.nn.Linear(WIDTH, WIDTH), torch.nn.Tanh())


def batch(seed, step, size):
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    x = torch.randn(size, WIDTH, generator=g)
    return x, torch.sin(x)  # a smooth target every stage count can learn


def main(argv):
    args = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    stage = contract.env_int(contract.STAGE_INDEX)
    stages = contract.env_int(contract.STAGE_COUNT)
    first = contract.env_int(contract.FIRST_LAYER)
    last = contract.env_int(contract.LAST_LAYER)
    micro = contract.env_int(contract.LOCAL_BATCH_SIZE, default=16)
    if world != stages:
        raise SystemExit(
            f"pipeline_train.py runs one process per stage: world size {world}, {stages} stages"
            " (set gpusPerWorker: 1)"
        )
    if stage != rank:
        raise SystemExit(f"stage {stage} is not rank {rank}: the gang's ranks follow its stages")
    if first > last:
        raise SystemExit(f"empty layer range {first}..{last}")
    net = torch.nn.Sequential(*[layer(args.seed, i) for i in range(first, last + 1)])
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr)
    print(
        f"[stage {stage}] layers {first}..{last} ({last - first + 1} of the model) on"
        f" {contract.env(contract.GPU_MODEL, 'unknown')}, micro-batch {micro}",
        flush=True,
    )
    shape = (micro, WIDTH)
    for step in range(1, args.steps + 1):
        optimizer.zero_grad()
        x, target = batch(args.seed, step, micro)
        if stage > 0:
            x = torch.empty(shape)
            dist.recv(x, src=rank - 1)
            x.requires_grad_(True)
        out = net(x)
        if stage < stages - 1:
            dist.send(out.detach(), dst=rank + 1)
            grad = torch.empty(shape)
            dist.recv(grad, src=rank + 1)
            out.backward(grad)
            if step == 1 or step % 10 == 0:
                print(
                    f"[stage {stage}] step {step} sent activations {list(out.shape)} to stage"
                    f" {stage + 1}, received their gradient",
                    flush=True,
                )
        else:
            loss = torch.nn.functional.mse_loss(out, target)
            loss.backward()
            print(f"[stage {stage}] step {step} loss {loss.item():.6f}", flush=True)
        if stage > 0:
            dist.send(x.grad, dst=rank - 1)
            if step == 1 or step % 10 == 0:
                print(
                    f"[stage {stage}] step {step} received activations {list(x.shape)} from"
                    f" stage {stage - 1}",
                    flush=True,
                )
        optimizer.step()
        if args.step_seconds > 0:
            time.sleep(args.step_seconds)
    dist.barrier()
    print(f"[stage {stage}] done after {args.steps} steps", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
