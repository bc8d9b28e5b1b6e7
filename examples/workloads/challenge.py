"""gpupool hardware challenge: proves the node's GPUs compute right, and how fast.

The operator starts this program on an idle node with a fresh nonce. It multiplies ROUNDS pairs of
SIZE x SIZE matrices derived from the nonce and takes one digest per product. Then either
  - commit-then-open (GPUPOOL_CHALLENGE_PORT set): it serves, over HTTP on that port,
      GET /commitment                -> "<root> <leaves>", the Merkle root over every digest
      GET /openings?leaves=3,17,42   -> one line per leaf: "<index> <digest> <sibling>,<sibling>,..."
    The operator times the commitment's arrival, draws the leaves to open from its secret, the
    nonce and the root (so they exist only once the root does), and recomputes the opened
    products. The program exits once it has served the openings (or after
    GPUPOOL_CHALLENGE_WAIT seconds, default 600), leaving "opened N leaves" as its termination
    message. gpu-scheduler's ChallengeWire, DigestTree and LeafOpenings define the exchange.
  - otherwise: it writes every digest, concatenated, to the container's termination message
    (/dev/termination-log, at most 240 rounds), and the operator recomputes a few rounds.

The computation is defined bit for bit in gpu-scheduler's ChallengeWork.java:
  seed      = first 8 bytes of SHA-256(nonce), big-endian
  s_r       = mix(seed + (r + 1) * G)                 (64-bit wrapping, G = 0x9E3779B97F4A7C15)
  entry e   = floorMod(mix(s_r + (e + 1) * G), 3) - 1 (A's n*n entries row-major, then B's)
  w_t       = (mix(mix(s_r) + (t + 1) * G) >> 56) + 1  (t in [0, 2n): row weights, then columns)
  digest_r  = sum_ij w_i * w_{n+j} * (C_ij + 2049)^2 over C = A @ B, exact in int64, 16 hex digits
where mix is SplitMix64's finaliser. Entries in {-1, 0, 1} keep every product entry within +-n,
exact in FP16 (n <= 2048), so every honest GPU gives the same digests. The digest is a fingerprint
the GPU computes in about 5 integer operations per entry (SHA-256 over the product's 1 MiB cost
far more than the product on a fast GPU) and that cannot be had without the product (docs/trust.md).

  python3 challenge.py                 # reads GPUPOOL_CHALLENGE_NONCE/_SIZE/_ROUNDS
  python3 challenge.py --self-test     # prints the digests ChallengeWorkTest pins, then their
                                       # Merkle root (tree_root), which DigestTreeTest pins

tree_root commits to every digest at once, as gpu-scheduler's DigestTree defines it:
  leaf i = SHA-256(0x00 || i as 8 bytes big-endian || digest_i's 8 bytes)
  node   = SHA-256(0x01 || left || right); an odd level's last node is carried up unchanged
"""
import hashlib
import os
import struct
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import torch

NONCE = "GPUPOOL_CHALLENGE_NONCE"
SIZE = "GPUPOOL_CHALLENGE_SIZE"
ROUNDS = "GPUPOOL_CHALLENGE_ROUNDS"
PORT = "GPUPOOL_CHALLENGE_PORT"
WAIT = "GPUPOOL_CHALLENGE_WAIT"
OFFSET = 2049
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


def weights(seed, n, device):
    """The 2n fingerprint weights of a round, in 1..256: rows, then columns."""
    t = torch.arange(1, 2 * n + 1, dtype=torch.int64, device=device)
    z = mix(signed(mix_int(seed)) + t * signed(GOLDEN))
    return shr(z, 56) + 1


def digest(product, seed):
    """The product's fingerprint: a quadratic form in its entries, exact in int64 (< 2^63)."""
    n = product.shape[0]
    w = weights(seed, n, product.device)
    u = product.to(torch.int64) + OFFSET
    rows = (u * u * w[n:].unsqueeze(0)).sum(dim=1)
    return "%016x" % (int((rows * w[:n]).sum().item()) & MASK64)


def tree_levels(digests):
    """Every level of the Merkle tree over the digests, leaves first."""
    level = [
        hashlib.sha256(b"\x00" + struct.pack(">Q", i) + bytes.fromhex(d)).digest()
        for i, d in enumerate(digests)
    ]
    levels = [level]
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        levels.append(level)
    return levels


def tree_root(digests):
    return tree_levels(digests)[-1][0].hex()


def opening(levels, digests, index):
    """Leaf index's line: index, digest, sibling hashes from the leaf up ("-" when none)."""
    path = []
    i = index
    for level in levels[:-1]:
        if (i ^ 1) < len(level):
            path.append(level[i ^ 1].hex())
        i >>= 1
    return "%d %s %s" % (index, digests[index], ",".join(path) or "-")


def serve(port, digests, wait_seconds):
    """Serves the commitment, then the openings asked for; True once they were served."""
    levels = tree_levels(digests)
    commitment = "%s %d\n" % (levels[-1][0].hex(), len(digests))
    state = {"opened": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/commitment":
                self.reply(200, commitment)
            elif url.path == "/openings":
                try:
                    asked = [int(p) for p in urllib.parse.parse_qs(url.query)["leaves"][0].split(",")]
                    if any(p < 0 or p >= len(digests) for p in asked):
                        raise ValueError("leaf outside 0..%d" % (len(digests) - 1))
                except (KeyError, ValueError) as e:
                    self.reply(400, "bad leaves: %s\n" % e)
                    return
                self.reply(200, "".join(opening(levels, digests, p) + "\n" for p in asked))
                state["opened"] = len(asked)
            else:
                self.reply(404, "not found\n")

        def reply(self, code, body):
            data = body.encode("ascii")
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass  # the exchange is the operator's to log

    server = HTTPServer(("", port), Handler)
    server.timeout = 1
    print("challenge: committed %s, serving on port %d" % (commitment.strip(), port), flush=True)
    deadline = time.monotonic() + wait_seconds
    try:
        while not state["opened"] and time.monotonic() < deadline:
            server.handle_request()
    finally:
        server.server_close()
    return state["opened"]


def digests_of(nonce_hex, n, rounds):
    devices = (
        [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
        if torch.cuda.is_available()
        else [torch.device("cpu")]
    )
    digests = []
    for r in range(rounds):
        device = devices[r % len(devices)]  # rounds shared by the node's GPUs
        seed = round_seed(nonce_hex, r)
        a, b = inputs(seed, n, device)
        digests.append(digest(a @ b, seed))
    return digests


def answer(nonce_hex, n, rounds):
    return "".join(digests_of(nonce_hex, n, rounds))


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
    if os.environ.get(PORT):
        opened = serve(int(os.environ[PORT]), digests_of(nonce, n, rounds), float(os.environ.get(WAIT, "600")))
        result = "opened %d leaves" % opened if opened else "no openings asked for"
    else:
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
