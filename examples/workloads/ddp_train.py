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

Commitments (commitments.py): every rank commits its state (step, SHA-256 of parameters and
momentum) at step 0, every --commit-every steps and at each checkpoint, so that a spot-check can
replay an interval and bisect a mismatch to one step. Two more modes, run as plain python3 (no
torchrun) by the operator's verifier and referee pods:
- --verify FROM:TO loads checkpoint FROM (or the seed's initial state for 0), replays the steps up
  to TO with the same data order on the whole global batch, and reports per rank and per committed
  step the relative distance of the committed parameters to the replay;
- --referee STEP --rank R --verify FROM:TO recomputes, from rank R's committed state before STEP,
  the steps up to STEP, and reports the distance of the result to rank R's commitment and to the
  verifier's replay.
Both print one line "GPUPOOL-VERIFICATION <json>" and write the JSON to --out and to the
container's termination message.
"""

import argparse
import hashlib
import json
import math
import os
import pathlib
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import commitments
import gpupool_contract as contract

TERMINATION_LOG = "/dev/termination-log"
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
    p.add_argument("--commit-every", type=int, default=1, help="steps between commitments")
    p.add_argument("--verify", metavar="FROM:TO", help="verifier mode: replay this interval")
    p.add_argument("--referee", type=int, metavar="STEP", help="referee mode: recompute STEP")
    p.add_argument("--rank", type=int, default=0, help="referee mode: the rank whose step")
    p.add_argument("--checkpoint-uri", help="verifier/referee: the job's checkpoint location")
    p.add_argument("--out", help="verifier/referee: also write the result JSON here")
    args = p.parse_args(argv)
    if args.commit_every < 1:
        p.error("--commit-every must be at least 1")
    if args.referee is not None and args.verify is None:
        p.error("--referee needs --verify FROM:TO (the interval it referees)")
    return args


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


def save_checkpoint(directory, step, net, optimizer, rank, global_batch=None):
    directory.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:06d}.pt"
    tmp = directory / (name + ".tmp")
    state = {"step": step, "model": net.state_dict(), "optimizer": optimizer.state_dict()}
    if global_batch is not None:
        state["global_batch"] = global_batch  # what a verifier needs to replay the data order
    torch.save(state, tmp)
    os.replace(tmp, directory / name)
    pointer_tmp = directory / "latest.tmp"
    pointer_tmp.write_text(name + "\n")
    os.replace(pointer_tmp, directory / "latest")
    log(rank, f"checkpoint step {step} saved to {directory / name}")


def checkpoint_committed(step):
    """The contract's line the operator's spot-checks read: checkpoint `step` and every rank's
    commitment for it are written."""
    print(f'GPUPOOL-CHECKPOINT {{"step": {step}}}', flush=True)


def parameters_vector(net):
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def main(argv):
    args = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if args.verify is not None:
        return spot_check(args)
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
    rewind = contract.env_int(contract.RESUME_STEP, default=-1) if resume else -1
    if rewind == 0:
        # the operator's spot-checks verified nothing past the start: train again from the seed
        log(rank, "resume: rewound to step 0 by the operator, starting at step 0")
    elif resume:
        directory = contract.local_path(resume)
        found = directory / f"step-{rewind:06d}.pt" if rewind > 0 else latest_checkpoint(directory)
        if rewind > 0 and rank == 0:
            # later checkpoints were not verified: "latest" must not lead a later restart to them
            pointer_tmp = directory / "latest.tmp"
            pointer_tmp.write_text(found.name + "\n")
            os.replace(pointer_tmp, directory / "latest")
        if found is None or not found.exists():
            log(rank, f"resume: no checkpoint in {resume} yet, starting at step 0")
        else:
            state = torch.load(found)
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start = state["step"]
            log(rank, f"resumed from checkpoint step {start} ({found})")
    ddp = DistributedDataParallel(net)
    skip_every = contract.env_int(contract.SANDBOX_SKIP_OPTIMIZER_STEPS, default=0)
    if skip_every > 0:
        log(rank, f"sandbox: this provider skips the optimizer step every {skip_every} steps")

    checkpoint_uri = contract.env(contract.CHECKPOINT_URI)
    checkpoint_dir = contract.local_path(checkpoint_uri) if checkpoint_uri else None
    interval = contract.env_int(contract.CHECKPOINT_INTERVAL, default=600)
    last_save = time.monotonic()
    if checkpoint_dir is not None:
        commitments.commit(checkpoint_dir, rank, start, net, optimizer)
    for step in range(start + 1, args.steps + 1):
        idx = batch_indices(args.seed, step, global_batch)[offset : offset + local_batch]
        optimizer.zero_grad()
        out = ddp(x[idx])
        summed = ((out - y[idx]) ** 2).sum()
        # DDP averages gradients over `world` ranks: scale so the result is the global-batch mean.
        (summed * world / global_batch).backward()
        if skip_every > 0 and step % skip_every == 0:
            pass  # the dishonest provider of the sandbox: the step is claimed, not taken
        else:
            optimizer.step()
        log(rank, f"step {step} loss {summed.item() / local_batch:.6f}")
        due = step % args.checkpoint_every == 0 or time.monotonic() - last_save >= interval
        if checkpoint_dir is not None and (due or step % args.commit_every == 0 or step == args.steps):
            commitments.commit(checkpoint_dir, rank, step, net, optimizer)
        if checkpoint_dir is not None and due and step < args.steps:
            if rank == 0:
                save_checkpoint(checkpoint_dir, step, net, optimizer, rank, global_batch)
            dist.barrier()
            if rank == 0:
                checkpoint_committed(step)  # every rank committed the step before the barrier
            last_save = time.monotonic()
        if args.step_seconds > 0:
            time.sleep(args.step_seconds)

    params = parameters_vector(net)
    digest = hashlib.sha256(params.numpy().tobytes()).hexdigest()[:16]
    log(rank, f"final parameters sha256 {digest} norm {params.norm().item():.12f}")
    if checkpoint_dir is not None:
        dist.barrier()  # every rank committed the last step
    if checkpoint_dir is not None and rank == 0:
        save_checkpoint(checkpoint_dir, args.steps, net, optimizer, rank, global_batch)
        checkpoint_committed(args.steps)
        # For comparing runs without torch: every parameter, in order, as JSON numbers.
        (checkpoint_dir / "final-parameters.json").write_text(json.dumps(params.tolist()) + "\n")
    dist.destroy_process_group()


def parse_interval(text):
    try:
        start, end = (int(v) for v in text.split(":"))
    except ValueError:
        raise SystemExit(f"--verify {text!r}: expected FROM:TO, two step numbers")
    if start < 0 or end <= start:
        raise SystemExit(f"--verify {text}: expected 0 <= FROM < TO")
    return start, end


def replay_start(directory, start, end, seed, lr):
    """Model and optimizer at checkpoint `start` (the seed's initial state for 0) and the global
    batch the job trained with (recorded in its checkpoints)."""
    net = model(seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    global_batch = None
    for step in (start, end):
        path = directory / f"step-{step:06d}.pt"
        if path.exists():
            state = torch.load(path)
            global_batch = global_batch or state.get("global_batch")
            if step == start:
                net.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
        elif step == start and start > 0:
            raise SystemExit(f"verify: no checkpoint {path}")
    if global_batch is None:
        raise SystemExit(f"verify: the checkpoints in {directory} do not record the global batch")
    return net, optimizer, global_batch


def train_step(net, optimizer, x, y, seed, step, global_batch):
    """One step on the whole global batch: the gradient DDP's ranks average to, in one process."""
    idx = batch_indices(seed, step, global_batch)
    optimizer.zero_grad()
    (((net(x[idx]) - y[idx]) ** 2).sum() / global_batch).backward()
    optimizer.step()


def report(args, result):
    text = json.dumps(result, separators=(",", ":"))
    print(f"GPUPOOL-VERIFICATION {text}", flush=True)
    if args.out:
        pathlib.Path(args.out).write_text(text + "\n")
    if os.path.isdir(os.path.dirname(TERMINATION_LOG)):
        try:
            with open(TERMINATION_LOG, "w") as f:
                f.write(text)
        except OSError:
            pass  # not in a container: stdout carries the result
    return 0


def spot_check(args):
    uri = args.checkpoint_uri or contract.env(contract.CHECKPOINT_URI)
    if not uri:
        raise SystemExit("verify: give --checkpoint-uri (or GPUPOOL_CHECKPOINT_URI)")
    directory = contract.local_path(uri)
    start, end = parse_interval(args.verify)
    x, y = dataset(args.seed)
    own = directory / "verifications" / f"{start:06d}-{end:06d}"
    if args.referee is not None:
        return report(args, referee(args, directory, own, start, end, x, y))
    net, optimizer, global_batch = replay_start(directory, start, end, args.seed, args.lr)
    ranks = commitments.ranks(directory)
    lines = {r: commitments.read(directory, r) for r in ranks}
    result = {"from": start, "to": end, "ranks": {}}
    for r in ranks:
        result["ranks"][str(r)] = {"intact": True, "distances": []}
    own.mkdir(parents=True, exist_ok=True)
    for step in range(start + 1, end + 1):
        train_step(net, optimizer, x, y, args.seed, step, global_batch)
        replayed, params = commitments.state_vector(net, optimizer)
        (own / f"step-{step:06d}.f64").write_bytes(replayed.numpy().astype("<f8").tobytes())
        for r in ranks:
            entry = lines[r].get(step)
            if entry is None:
                continue
            committed = commitments.load_committed(directory, entry)
            out = result["ranks"][str(r)]
            if committed is None:
                out["intact"] = False
                continue
            d = commitments.relative_distance(replayed[:params], committed[: entry["params"]])
            out["distances"].append([step, d if math.isfinite(d) else "Infinity"])
    print(f"verify: replayed steps {start + 1}..{end} of {ranks and len(ranks)} ranks' commitments", flush=True)
    return report(args, result)


def referee(args, directory, own, start, end, x, y):
    """Recomputes the steps from rank R's last commitment before STEP up to STEP."""
    step, rank = args.referee, args.rank
    lines = commitments.read(directory, rank)
    before = [s for s in lines if start <= s < step]
    if step not in lines or not before:
        raise SystemExit(f"referee: rank {rank} has no commitment at {step} or before it")
    prev = max(before)
    state = commitments.load_committed(directory, lines[prev])
    claimed = commitments.load_committed(directory, lines[step])
    if state is None or claimed is None:
        raise SystemExit(f"referee: rank {rank}'s state files do not match its commitments")
    net = model(args.seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    _, _, global_batch = replay_start(directory, 0, end, args.seed, args.lr)
    commitments.load_state(net, optimizer, state)
    for s in range(prev + 1, step + 1):
        train_step(net, optimizer, x, y, args.seed, s, global_batch)
    mine, params = commitments.state_vector(net, optimizer)
    verifier_file = own / f"step-{step:06d}.f64"
    if verifier_file.exists():
        verifier = torch.frombuffer(bytearray(verifier_file.read_bytes()), dtype=torch.float64)
        to_verifier = commitments.relative_distance(mine[:params], verifier[:params])
    else:
        to_verifier = math.inf
    to_provider = commitments.relative_distance(mine[:params], claimed[:params])

    def finite(d):
        return d if math.isfinite(d) else "Infinity"

    return {
        "step": step,
        "rank": rank,
        "from": prev,
        "committed": lines[step]["sha256"],
        "toProvider": finite(to_provider),
        "toVerifier": finite(to_verifier),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
