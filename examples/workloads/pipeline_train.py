"""Pipeline-parallel training: each pod builds only its stage's layers and passes activations on.

Run under torchrun with one process per pod (gpusPerWorker 1). From gpupool's contract it reads
GPUPOOL_STAGE_INDEX, GPUPOOL_STAGE_COUNT and its layer range GPUPOOL_FIRST_LAYER..GPUPOOL_LAST_LAYER
(inclusive; the planner sizes it to the GPU), and GPUPOOL_LOCAL_BATCH_SIZE as the micro-batch.
Stage s receives activations from stage s-1 (torch.distributed send/recv over gloo on CPU, NCCL on
GPUs), runs its layers and sends the result to stage s+1; the last stage computes the loss and the
gradients flow back the same way. Layer i's initial weights depend only on the seed and i, so a
split into other stages trains the same model. The model is float64 and torch runs with
deterministic algorithms, so a replay in one process gives the stages' parameters to rounding.

With GPUPOOL_CHECKPOINT_URI every stage saves its own layers every --checkpoint-every steps
(step-NNNNNN-stage-S.pt, keyed by global layer index, so a gang re-planned with other layer ranges
still finds every layer), and after a barrier rank 0 points "latest" at the step. GPUPOOL_RESUME_FROM
(and GPUPOOL_RESUME_STEP when the operator rewinds to a verified checkpoint) resumes from there.

Commitments (commitments.py): every stage commits its own layer range's state at its first step,
every --commit-every steps and at each checkpoint; the line also records the stage's layer range
and the micro-batch. Once every stage committed and saved a checkpoint, rank 0 prints
GPUPOOL-CHECKPOINT. A stage's update depends on its neighbours (the activations it receives, the
gradient sent back through the later layers), so a verifier cannot replay one stage from its own
state alone; it replays the interval of the whole pipeline in one process, from every stage's
committed state at its start, and judges each stage's committed layer range separately:
- --verify FROM:TO reports per stage (as "ranks") and committed step the relative distance of the
  stage's committed parameters to the replay's same layers;
- --referee STEP --rank R --verify FROM:TO recomputes, from every stage's committed state before
  STEP, the steps up to STEP and reports stage R's distance to its commitment and to the verifier.
A wrong step of one stage makes its neighbours differ from the next step on (they computed with
its wrong layers): the operator referees the stage whose disagreement comes first.
"""

import argparse
import json
import math
import os
import pathlib
import sys
import time

import torch
import torch.distributed as dist

import commitments
import gpupool_contract as contract

TERMINATION_LOG = "/dev/termination-log"
WIDTH = 32


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--step-seconds", type=float, default=0.0)
    p.add_argument("--checkpoint-every", type=int, default=10, help="steps between checkpoints")
    p.add_argument("--commit-every", type=int, default=1, help="steps between commitments")
    p.add_argument("--verify", metavar="FROM:TO", help="verifier mode: replay this interval")
    p.add_argument("--referee", type=int, metavar="STEP", help="referee mode: recompute STEP")
    p.add_argument("--rank", type=int, default=0, help="referee mode: the stage whose step")
    p.add_argument("--checkpoint-uri", help="verifier/referee: the job's checkpoint location")
    p.add_argument("--out", help="verifier/referee: also write the result JSON here")
    args = p.parse_args(argv)
    if args.commit_every < 1 or args.checkpoint_every < 1:
        p.error("--commit-every and --checkpoint-every must be at least 1")
    if args.referee is not None and args.verify is None:
        p.error("--referee needs --verify FROM:TO (the interval it referees)")
    return args


def layer(seed, index):
    torch.manual_seed(seed * 10_007 + index)
    return torch.nn.Sequential(torch.nn.Linear(WIDTH, WIDTH), torch.nn.Tanh())


def stage_net(seed, first, last):
    return torch.nn.Sequential(*[layer(seed, i) for i in range(first, last + 1)])


def batch(seed, step, size):
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    x = torch.randn(size, WIDTH, generator=g)
    return x, torch.sin(x)  # a smooth target every stage count can learn


def checkpoint_name(step, stage):
    return f"step-{step:06d}-stage-{stage}.pt"


def save_checkpoint(directory, step, net, first, stage):
    """This stage's layers by global index (SGD without momentum keeps no optimizer state)."""
    directory.mkdir(parents=True, exist_ok=True)
    layers = {first + i: module.state_dict() for i, module in enumerate(net)}
    name = checkpoint_name(step, stage)
    tmp = directory / (name + ".tmp")
    torch.save({"step": step, "layers": layers}, tmp)
    os.replace(tmp, directory / name)


def point_latest(directory, step):
    tmp = directory / "latest.tmp"
    tmp.write_text(f"step-{step:06d}\n")
    os.replace(tmp, directory / "latest")


def load_layers(directory, step, net, first, last):
    """Loads layers first..last from every stage's checkpoint of `step`; False when one is missing."""
    found = {}
    for path in directory.glob(f"step-{step:06d}-stage-*.pt"):
        found.update(torch.load(path)["layers"])
    if any(i not in found for i in range(first, last + 1)):
        return False
    for i, module in enumerate(net):
        module.load_state_dict(found[first + i])
    return True


def resume(net, stage, first, last):
    """The step to continue after: the operator's rewind step, else the latest checkpoint, else 0."""
    uri = contract.env(contract.RESUME_FROM)
    if not uri:
        return 0
    directory = contract.local_path(uri)
    rewind = contract.env_int(contract.RESUME_STEP, default=-1)
    if rewind == 0:
        print(f"[stage {stage}] resume: rewound to step 0 by the operator", flush=True)
        return 0
    step = rewind
    if rewind < 0:
        pointer = directory / "latest"
        if not pointer.exists():
            print(f"[stage {stage}] resume: no checkpoint in {uri} yet, starting at 0", flush=True)
            return 0
        step = int(pointer.read_text().strip().split("-")[1])
    if not load_layers(directory, step, net, first, last):
        raise SystemExit(f"[stage {stage}] resume: checkpoint step {step} lacks layers {first}..{last}")
    print(f"[stage {stage}] resumed from checkpoint step {step}", flush=True)
    return step


def train(args):
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
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
    net = stage_net(args.seed, first, last)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr)
    print(
        f"[stage {stage}] layers {first}..{last} ({last - first + 1} of the model) on"
        f" {contract.env(contract.GPU_MODEL, 'unknown')}, micro-batch {micro}",
        flush=True,
    )
    start = resume(net, stage, first, last)
    skip_every = contract.env_int(contract.SANDBOX_SKIP_OPTIMIZER_STEPS, default=0)
    if skip_every > 0:
        print(f"[stage {stage}] sandbox: this provider skips the optimizer step every {skip_every} steps", flush=True)
    uri = contract.env(contract.CHECKPOINT_URI)
    directory = contract.local_path(uri) if uri else None
    facts = {"layers": [first, last], "micro": micro}
    if directory is not None:
        commitments.commit(directory, rank, start, net, optimizer, facts)
    shape = (micro, WIDTH)
    for step in range(start + 1, args.steps + 1):
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
        if skip_every > 0 and step % skip_every == 0:
            pass  # the dishonest provider of the sandbox: the step is claimed, not taken
        else:
            optimizer.step()
        due = step % args.checkpoint_every == 0 or step == args.steps
        if directory is not None and (due or step % args.commit_every == 0):
            commitments.commit(directory, rank, step, net, optimizer, facts)
        if directory is not None and due:
            save_checkpoint(directory, step, net, first, stage)
            dist.barrier()  # every stage committed and saved the step
            if rank == 0:
                point_latest(directory, step)
                print(f"[stage {stage}] checkpoint step {step} saved", flush=True)
                print(f'GPUPOOL-CHECKPOINT {{"step": {step}}}', flush=True)
        if args.step_seconds > 0:
            time.sleep(args.step_seconds)
    dist.barrier()
    print(f"[stage {stage}] done after {args.steps} steps", flush=True)
    dist.destroy_process_group()


# --- verifier and referee: plain python3, one process, the whole pipeline -----------------------


def parse_interval(text):
    try:
        start, end = (int(v) for v in text.split(":"))
    except ValueError:
        raise SystemExit(f"--verify {text!r}: expected FROM:TO, two step numbers")
    if start < 0 or end <= start:
        raise SystemExit(f"--verify {text}: expected 0 <= FROM < TO")
    return start, end


def committed_stages(directory, step):
    """rank -> its commitment line at `step`, for every stage that committed anything."""
    lines = {r: commitments.read(directory, r) for r in commitments.ranks(directory)}
    if not lines:
        raise SystemExit(f"verify: no commitments in {directory}")
    missing = [r for r, by_step in lines.items() if step not in by_step]
    if missing:
        raise SystemExit(f"verify: stage(s) {missing} committed nothing at step {step}")
    return lines


def pipeline_at(directory, step, seed, lr, lines):
    """The whole model as one Sequential of the stages, at `step`: the seed's initial layers for 0,
    else every stage's committed state; None for a stage whose state file breaks its digest."""
    stages, broken = [], []
    for r in sorted(lines):
        entry = lines[r][step]
        first, last = entry["layers"]
        net = stage_net(seed, first, last)
        if step > 0:
            state = commitments.load_committed(directory, entry)
            if state is None:
                broken.append(r)
            else:
                commitments.load_state(net, torch.optim.SGD(net.parameters(), lr=lr), state)
        stages.append(net)
    whole = torch.nn.Sequential(*stages)
    return whole, torch.optim.SGD(whole.parameters(), lr=lr), broken


def replay_step(whole, optimizer, seed, step, micro):
    x, target = batch(seed, step, micro)
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(whole(x), target).backward()
    optimizer.step()


def stage_state(whole, r):
    """Stage r's parameters as a float64 vector (no momentum: SGD without it keeps none)."""
    return torch.cat([p.detach().reshape(-1) for p in whole[r].parameters()]).to(torch.float64)


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


def finite(d):
    return d if math.isfinite(d) else "Infinity"


def spot_check(args):
    uri = args.checkpoint_uri or contract.env(contract.CHECKPOINT_URI)
    if not uri:
        raise SystemExit("verify: give --checkpoint-uri (or GPUPOOL_CHECKPOINT_URI)")
    directory = contract.local_path(uri)
    start, end = parse_interval(args.verify)
    own = directory / "verifications" / f"{start:06d}-{end:06d}"
    lines = committed_stages(directory, start)
    if args.referee is not None:
        return report(args, referee(args, directory, own, start, lines))
    whole, optimizer, broken = pipeline_at(directory, start, args.seed, args.lr, lines)
    result = {"from": start, "to": end, "ranks": {}}
    for r in lines:
        result["ranks"][str(r)] = {"intact": r not in broken, "distances": []}
    if broken:
        # a stage's published state contradicts its commitment: nothing to replay from
        return report(args, result)
    micro = lines[min(lines)][start]["micro"]
    own.mkdir(parents=True, exist_ok=True)
    for step in range(start + 1, end + 1):
        replay_step(whole, optimizer, args.seed, step, micro)
        for r in lines:
            replayed = stage_state(whole, r)
            (own / f"rank-{r}-step-{step:06d}.f64").write_bytes(replayed.numpy().astype("<f8").tobytes())
            entry = lines[r].get(step)
            if entry is None:
                continue
            committed = commitments.load_committed(directory, entry)
            out = result["ranks"][str(r)]
            if committed is None:
                out["intact"] = False
                continue
            d = commitments.relative_distance(replayed, committed[: entry["params"]])
            out["distances"].append([step, finite(d)])
    print(f"verify: replayed steps {start + 1}..{end} of {len(lines)} stages' commitments", flush=True)
    return report(args, result)


def referee(args, directory, own, start, lines):
    """Recomputes STEP for stage R from every stage's committed state at R's commitment before it."""
    step, rank = args.referee, args.rank
    if rank not in lines or step not in lines[rank]:
        raise SystemExit(f"referee: stage {rank} has no commitment at {step}")
    before = [s for s in lines[rank] if start <= s < step and all(s in lines[r] for r in lines)]
    if not before:
        raise SystemExit(f"referee: the stages share no commitment in {start}..{step - 1}")
    prev = max(before)
    whole, optimizer, broken = pipeline_at(directory, prev, args.seed, args.lr, lines)
    claimed = commitments.load_committed(directory, lines[rank][step])
    if broken or claimed is None:
        raise SystemExit(f"referee: state files of stage(s) {broken or [rank]} break their commitments")
    for s in range(prev + 1, step + 1):
        replay_step(whole, optimizer, args.seed, s, lines[rank][prev]["micro"])
    mine = stage_state(whole, rank)
    verifier_file = own / f"rank-{rank}-step-{step:06d}.f64"
    if verifier_file.exists():
        verifier = torch.frombuffer(bytearray(verifier_file.read_bytes()), dtype=torch.float64)
        to_verifier = commitments.relative_distance(mine, verifier)
    else:
        to_verifier = math.inf
    to_provider = commitments.relative_distance(mine, claimed[: lines[rank][step]["params"]])
    return {
        "step": step,
        "rank": rank,
        "from": prev,
        "committed": lines[rank][step]["sha256"],
        "toProvider": finite(to_provider),
        "toVerifier": finite(to_verifier),
    }


def main(argv):
    args = parse_args(argv)
    if args.verify is not None:
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)
        return spot_check(args)
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
