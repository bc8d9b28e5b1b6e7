"""Training commitments: what a trainer publishes so that its work can be spot-checked.

Layout, under the checkpoint directory (GPUPOOL_CHECKPOINT_URI):

    commitments/rank-R.jsonl            one JSON line per committed step of global rank R:
                                        {"step": N, "sha256": "<hex>", "file": "rank-R/step-N.f64",
                                         "params": P}
    commitments/rank-R/step-NNNNNN.f64  the committed state: the P parameters, then the optimizer's
                                        momentum buffers, float64 little-endian

A rank commits at step 0 (its starting state), every --commit-every steps and at every checkpoint,
always before it moves on, and a line is appended only after its state file is complete. The
digest binds the state file: a file changed later no longer matches its line. Distances are
relative L2 distances of the parameter part: |replayed - committed| / |committed|
(gpu-scheduler's verify/ParameterDistance computes the same).
"""

import hashlib
import json
import math
import os

import torch

DIR = "commitments"
TINY_NORM = 1e-12


def state_vector(net, optimizer):
    """Parameters, then momentum buffers (zeros before the first step), as one float64 vector."""
    params = [p.detach().reshape(-1) for p in net.parameters()]
    momenta = []
    for p in net.parameters():
        buf = optimizer.state.get(p, {}).get("momentum_buffer")
        momenta.append(torch.zeros_like(p).reshape(-1) if buf is None else buf.detach().reshape(-1))
    return torch.cat(params + momenta).to(torch.float64), sum(t.numel() for t in params)


def load_state(net, optimizer, vector):
    """Sets parameters and momentum buffers from a state vector (the inverse of state_vector)."""
    offset = 0
    with torch.no_grad():
        for p in net.parameters():
            n = p.numel()
            p.copy_(vector[offset : offset + n].reshape(p.shape))
            offset += n
        for p in net.parameters():
            n = p.numel()
            optimizer.state[p]["momentum_buffer"] = vector[offset : offset + n].reshape(p.shape).clone()
            offset += n


def digest(vector):
    return hashlib.sha256(vector.numpy().astype("<f8").tobytes()).hexdigest()


def commit(directory, rank, step, net, optimizer, extra=None):
    """Writes the state file, then appends its line: a line always names a complete file. `extra`
    adds fields to the line (a pipeline stage records its layer range and micro-batch)."""
    vector, params = state_vector(net, optimizer)
    rank_dir = directory / DIR / f"rank-{rank}"
    rank_dir.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:06d}.f64"
    tmp = rank_dir / (name + ".tmp")
    tmp.write_bytes(vector.numpy().astype("<f8").tobytes())
    os.replace(tmp, rank_dir / name)
    line = {"step": step, "sha256": digest(vector), "file": f"rank-{rank}/{name}", "params": params}
    line.update(extra or {})
    with open(directory / DIR / f"rank-{rank}.jsonl", "a") as log:
        log.write(json.dumps(line) + "\n")
        log.flush()
        os.fsync(log.fileno())


def read(directory, rank):
    """step -> commitment line of a rank; the last line wins when a restarted gang committed again."""
    path = directory / DIR / f"rank-{rank}.jsonl"
    if not path.exists():
        return {}
    lines = {}
    for raw in path.read_text().splitlines():
        if raw.strip():
            entry = json.loads(raw)
            lines[int(entry["step"])] = entry
    return lines


def ranks(directory):
    """Global ranks that committed anything, in order."""
    base = directory / DIR
    if not base.exists():
        return []
    return sorted(int(p.stem.split("-")[1]) for p in base.glob("rank-*.jsonl"))


def load_committed(directory, entry):
    """The committed state vector, or None when the file is missing or does not match its digest."""
    path = directory / DIR / entry["file"]
    if not path.exists():
        return None
    vector = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.float64)
    return vector if digest(vector) == entry["sha256"] else None


def relative_distance(replayed, committed):
    """|replayed - committed| / |committed|, infinite for non-finite values or other lengths."""
    if replayed.numel() != committed.numel():
        return math.inf
    if not (torch.isfinite(replayed).all() and torch.isfinite(committed).all()):
        return math.inf
    diff = (replayed - committed).norm().item()
    return diff / max(committed.norm().item(), TINY_NORM)
