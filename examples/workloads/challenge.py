"""gpupool hardware challenge: proves the node's GPUs compute right, and how fast.

The operator starts this program on an idle node with a fresh nonce. It multiplies ROUNDS pairs of
SIZE x SIZE matrices derived from the nonce and writes one digest per product, concatenated, to
the container's termination message (/dev/termination-log), where the operator reads it. The
operator recomputes a few rounds of its own choosing and times the whole on its own clock.

The computation is defined bit for bit in gpu-scheduler's ChallengeWork.java:
  seed      = first 8 bytes of SHA-256(nonce), big-endian
  s_r       = mix(seed + (r + 1) * G)                 (64-bit wrapping, G = 0x9E3779B97F4A7C15)
  entry e   = floorMod(mix(s_r + (e + 1) * G), 3) - 1 (A's n*n entries row-major, then B's)
  digest_r  = first 8 bytes of SHA-256(A @ B as little-endian int32, row-major), hex
where mix is SplitMix64's finaliser. Entries in {-1, 0, 1} keep every product entry within +-n,
exact in FP16 (n <= 2048), so every honest GPU gives the same digests.

  python3 challenge.py                 # reads GPUPOOL_CHALLENGE_NONCE/_SIZE/_ROUNDS
  python3 challenge.py --self-test     # prints the digests ChallengeWorkTest pins, then their
                                       # Merkle root (tree_root), which DigestTreeTest pins

tree_root commits to every digest at once, as gpu-scheduler's DigestTree defines it:
  leaf i = SHA-256(0x00 || i as 8 bytes big-endian || digest_i's 8 bytes)
  node   = SHA-256(0x01 || left || right); an odd level's last node is carried up unchanged
The operator's LeafOpenings protocol (open leaves at positions drawn after the root) is checked in
gpu-scheduler; this program does not serve openings yet.
"""
import hashlib
import os
import struct
import sys

import torch

NONCE = "GPUPOOL_CHALLENGE_NONCE"
SIZE = "GPUPOOL_CHALLENGE_SIZE"
ROUNDS = "GPUPOOL_CHALLENGE_ROUNDS"
TERMINATION_LOG = "/dev/termination-log"

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def signed(v):
    """A 64-bit pattern as the signed value torch's int64 holds."""
    v &= MASK64
    return v - (1 << 64) if v >= (1 << 63) else v


def shr(z, k):
    """Logical right shift of int64 tensors (torch's >> is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix(z):
    z = (z ^ shr(z, 30)) * signed(MIX1)
    z = (z ^ shr(z, 27)) * signed(MIX2)
    return z ^ shr(z, 31)


def mix_int(z):
    """mix() on one Python int, as Java's long arithmetic does it."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def round_seed(nonce_hex, r):
    seed = int.from_bytes(hashlib.sha256(bytes.fromhex(nonce_hex)).digest()[:8], "big")
    return mix_int(seed + (r + 1) * GOLDEN)


def inputs(seed, n, device):
    """A and B of one round as float tensors with entries in {-1, 0, 1}."""
    e = torch.arange(1, 2 * n * n + 1, dtype=torch.int64, device=device)
    z = mix(signed(seed) + e * signed(GOLDEN))
    v = torch.remainder(z, 3) - 1
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    v = v.to(dtype)
    return v[: n * n].reshape(n, n), v[n * n :].reshape(n, n)


def digest(product):
    values = product.to(torch.int32).cpu().flatten().tolist()
    return hashlib.sha256(struct.pack("<%di" % len(values), *values)).hexdigest()[:16]


def tree_root(digests):
    level = [
        hashlib.sha256(b"\x00" + struct.pack(">Q", i) + bytes.fromhex(d)).digest()
        for i, d in enumerate(digests)
    ]
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def answer(nonce_hex, n, rounds):
    devices = (
        [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
        if torch.cuda.is_available()
        else [torch.device("cpu")]
    )
    digests = []
    for r in range(rounds):
        device = devices[r % len(devices)]  # rounds shared by the node's GPUs
        a, b = inputs(round_seed(nonce_hex, r), n, device)
        digests.append(digest(a @ b))
    return "".join(digests)


def main(argv):
    if "--self-test" in argv:
        pinned = answer("00112233445566778899aabbccddeeff", 16, 3)
        print(pinned)
        print(tree_root([pinned[i : i + 16] for i in range(0, len(pinned), 16)]))
        return 0
    try:
        nonce, n, rounds = os.environ[NONCE], int(os.environ[SIZE]), int(os.environ[ROUNDS])
    except (KeyError, ValueError) as e:
        print("challenge: missing or bad %s, %s or %s: %s" % (NONCE, SIZE, ROUNDS, e), file=sys.stderr)
        return 2
    result = answer(nonce, n, rounds)
    print(result)
    if os.path.exists(os.path.dirname(TERMINATION_LOG)):
        try:
            with open(TERMINATION_LOG, "w") as f:
                f.write(result)
        except OSError as e:  # not in a container: stdout is the answer
            print("challenge: cannot write %s: %s" % (TERMINATION_LOG, e), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
