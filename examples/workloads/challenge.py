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

A committed challenge has up to 2^26 rounds (gpu-scheduler's Challenge.MAX_COMMITTED_ROUNDS), as
many as keep the claimed GPUs busy for the operator's target, so the program is built for rate:
  - inputs are generated on the device from the seed, a batch of rounds at a time (SplitMix64 in
    int64 arithmetic: torch has no uint64, so logical shifts are arithmetic ones masked); as
    separate element-wise kernels this is bound by memory bandwidth on a GPU, so the program's
    rate does not follow a GPU's TFLOP/s: the operator times a product by the rate --bench
    measured on it, and keeps 240 rounds for a product it has none for (docs/trust.md);
  - GPUPOOL_CHALLENGE_BATCH sets the rounds a batch (default: what the working memory allows);
  - each batch is one batched product and one batched fingerprint (a few kernel launches per
    batch, not per round), and only the batch's digests come back to the host;
  - digests are kept as 8 bytes each in one bytearray; the Merkle tree is hashed a chunk of 4096
    leaves at a time as batches finish (in GPUPOOL_CHALLENGE_HASHERS worker processes, by default
    all cores but one on a GPU node), and only the chunks' roots and the levels above them are
    kept; an opening rehashes its chunk.

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
                                       # Merkle root (DigestTree), which DigestTreeTest pins
  python3 challenge.py --bench SIZE [ROUNDS [BATCH]]  # calibration: rounds per second per GPU
                                       # of a committed challenge on this node, and the setting
                                       # that gives the operator this product's rate
                                       # (docs/operations.md, "Calibrating challenges")

The root commits to every digest at once, as gpu-scheduler's DigestTree defines it:
  leaf i = SHA-256(0x00 || i as 8 bytes big-endian || digest_i's 8 bytes)
  node   = SHA-256(0x01 || left || right); an odd level's last node is carried up unchanged
"""
import hashlib
import math
import multiprocessing
import os
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
BATCH = "GPUPOOL_CHALLENGE_BATCH"
HASHERS = "GPUPOOL_CHALLENGE_HASHERS"
BENCH_SECONDS = "GPUPOOL_CHALLENGE_BENCH_SECONDS"
OFFSET = 2049
TERMINATION_LOG = "/dev/termination-log"
MAX_ANSWERED_ROUNDS = 240  # 16 hex digits a round in a 4096-byte termination message
MAX_COMMITTED_ROUNDS = 1 << 26  # gpu-scheduler's Challenge.MAX_COMMITTED_ROUNDS
MAX_SIZE = 2048

CHUNK_BITS = 12  # leaves hashed together: an opening rehashes one chunk (~8k SHA-256, a few ms)
CHUNK = 1 << CHUNK_BITS

# Entries of a batch's int64 working tensors. On a GPU: large, so that launches and host reads do
# not count, bounded because a few of them (256 MiB each) live at once. On a CPU: what its cache
# holds; larger batches ran up to 2.6 times slower (docs/trust.md, 2026-12-07).
CPU_BATCH_ELEMENTS = 1 << 16
GPU_BATCH_ELEMENTS = 1 << 25

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


def mix_(z):
    """SplitMix64's finaliser on an int64 tensor, in place (multiplication wraps as Java's)."""
    z ^= shr(z, 30)
    z *= signed(MIX1)
    z ^= shr(z, 27)
    z *= signed(MIX2)
    z ^= shr(z, 31)
    return z


def mix_int(z):
    """mix() on one Python int, as Java's long arithmetic does it."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def challenge_seed(nonce_hex):
    return int.from_bytes(hashlib.sha256(bytes.fromhex(nonce_hex)).digest()[:8], "big")


class Rounds:
    """Computes the digests of rounds [first, first + count) of one challenge on one device."""

    def __init__(self, seed, n, device):
        self.seed = signed(seed)
        self.n = n
        self.device = device
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        golden = signed(GOLDEN)
        # (e + 1) * G for every entry of A then B, and (t + 1) * G for every weight: per round
        # only the round's seed is added.
        self.entry_steps = torch.arange(1, 2 * n * n + 1, dtype=torch.int64, device=device) * golden
        self.weight_steps = torch.arange(1, 2 * n + 1, dtype=torch.int64, device=device) * golden

    def digests(self, first, count):
        """The batch's digests as an int64 tensor on the device (not waited for)."""
        n = self.n
        r = torch.arange(first + 1, first + count + 1, dtype=torch.int64, device=self.device)
        seeds = mix_(r * signed(GOLDEN) + self.seed)
        entries = mix_(seeds.unsqueeze(1) + self.entry_steps)
        entries = torch.remainder(entries, 3).sub_(1).to(self.dtype)  # floorMod, as Java
        a = entries[:, : n * n].reshape(count, n, n)
        b = entries[:, n * n :].reshape(count, n, n)
        product = torch.bmm(a, b)
        del entries, a, b
        w = mix_(mix_(seeds.clone()).unsqueeze(1) + self.weight_steps)
        w = shr(w, 56).add_(1)
        u = product.to(torch.int64).add_(OFFSET)
        del product
        rows = (u.mul_(u).mul_(w[:, n:].unsqueeze(1))).sum(dim=2)
        return (rows.mul_(w[:, :n])).sum(dim=1)


def devices():
    if torch.cuda.is_available():
        return [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return [torch.device("cpu")]


def batch_size(n, device):
    """Rounds per batch: from GPUPOOL_CHALLENGE_BATCH, else what the working memory allows."""
    if os.environ.get(BATCH):
        return max(1, int(os.environ[BATCH]))
    elements = GPU_BATCH_ELEMENTS if device.type == "cuda" else CPU_BATCH_ELEMENTS
    return max(1, elements // (2 * n * n))


def compute(nonce_hex, n, rounds, sink):
    """Feeds every round's digest, in round order, to sink(bytes) a batch at a time.

    Batches go to the node's GPUs in turn; up to two per device are in flight, so a device computes
    the next batch while the host takes the last one's digests and hashes them."""
    seed = challenge_seed(nonce_hex)
    workers = [Rounds(seed, n, d) for d in devices()]
    size = min(batch_size(n, w.device) for w in workers)
    in_flight = []
    for k, first in enumerate(range(0, rounds, size)):
        worker = workers[k % len(workers)]
        in_flight.append(worker.digests(first, min(size, rounds - first)))
        if len(in_flight) >= 2 * len(workers):
            sink(big_endian(in_flight.pop(0)))
    for d in in_flight:
        sink(big_endian(d))


def big_endian(digests):
    """A batch's digests as 8 big-endian bytes each: the leaves' bytes, and "%016x" in hex."""
    return digests.cpu().numpy().astype(">i8").tobytes()


def levels_of(level):
    """Every level above a list of node hashes, it included: pairs hashed, an odd last carried up."""
    levels = [level]
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        levels.append(level)
    return levels


def chunk_levels(start, digests):
    """The tree's levels over the leaves from index start (a multiple of CHUNK), digests' 8 bytes
    each. As the chunk starts on a CHUNK boundary, its pairs are the whole tree's pairs."""
    sha = hashlib.sha256
    leaves = [
        sha(b"\x00" + (start + i).to_bytes(8, "big") + digests[8 * i : 8 * i + 8]).digest()
        for i in range(len(digests) // 8)
    ]
    return levels_of(leaves)


def chunk_root(start, digests):
    return chunk_levels(start, digests)[-1][0]


class DigestTree:
    """gpu-scheduler's DigestTree over a challenge's digests, built as batches finish.

    Holds the digests (8 bytes a round) and the tree from the chunks' roots up; openings rehash
    their chunk. Chunks are hashed by a pool of worker processes when one is given."""

    def __init__(self, rounds, pool=None):
        self.leaves = rounds
        self.digests = bytearray(8 * rounds)
        self.filled = 0
        self.hashed = 0  # leaves whose chunk was handed out
        self.pool = pool
        self.chunk_roots = []
        self.upper = None

    def add(self, batch):
        self.digests[8 * self.filled : 8 * self.filled + len(batch)] = batch
        self.filled += len(batch) // 8
        while self.filled - self.hashed >= CHUNK:
            self._hash_chunk(CHUNK)

    def finish(self):
        if self.filled != self.leaves:
            raise ValueError("%d of %d digests computed" % (self.filled, self.leaves))
        if self.filled > self.hashed:
            self._hash_chunk(self.filled - self.hashed)
        roots = [r.get() if hasattr(r, "get") else r for r in self.chunk_roots]
        self.upper = levels_of(roots)
        return self

    def _hash_chunk(self, count):
        start = self.hashed
        data = bytes(self.digests[8 * start : 8 * (start + count)])
        if self.pool is None:
            self.chunk_roots.append(chunk_root(start, data))
        else:
            self.chunk_roots.append(self.pool.apply_async(chunk_root, (start, data)))
        self.hashed += count

    def root(self):
        return self.upper[-1][0].hex()

    def digest(self, index):
        return self.digests[8 * index : 8 * index + 8].hex()

    def opening(self, index):
        """Leaf index's line: index, digest, sibling hashes from the leaf up ("-" when none)."""
        chunk = index >> CHUNK_BITS
        start = chunk << CHUNK_BITS
        end = min(self.leaves, start + CHUNK)
        path = siblings(chunk_levels(start, self.digests[8 * start : 8 * end]), index - start)
        path += siblings(self.upper, chunk)
        return "%d %s %s" % (index, self.digest(index), ",".join(path) or "-")


def siblings(levels, i):
    """Sibling hashes of node i of levels[0], up to (not including) the top level."""
    path = []
    for level in levels[:-1]:
        if (i ^ 1) < len(level):
            path.append(level[i ^ 1].hex())
        i >>= 1
    return path


def hash_pool():
    """Worker processes for chunk hashing (GPUPOOL_CHALLENGE_HASHERS of them), None to hash inline.

    By default one fewer than the cores when the rounds run on GPUs, whose host process mostly
    waits; none when they run on the CPU, whose cores the computation already uses (hashing beside
    it measured slower there). The workers only hash: a child of a process using CUDA must not."""
    if os.environ.get(HASHERS):
        workers = int(os.environ[HASHERS])
    elif torch.cuda.is_available():
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        workers = (cores or 1) - 1
    else:
        workers = 0
    return multiprocessing.get_context("fork").Pool(workers) if workers > 0 else None


def committed_tree(nonce_hex, n, rounds, pool=None):
    tree = DigestTree(rounds, pool)
    compute(nonce_hex, n, rounds, tree.add)
    return tree.finish()


def digests_of(nonce_hex, n, rounds):
    """Every digest as 8 big-endian bytes, concatenated."""
    out = bytearray()
    compute(nonce_hex, n, rounds, out.extend)
    return bytes(out)


def serve(port, tree, wait_seconds):
    """Serves the commitment, then the openings asked for; True once they were served."""
    commitment = "%s %d\n" % (tree.root(), tree.leaves)
    state = {"opened": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/commitment":
                self.reply(200, commitment)
            elif url.path == "/openings":
                try:
                    asked = [int(p) for p in urllib.parse.parse_qs(url.query)["leaves"][0].split(",")]
                    if any(p < 0 or p >= tree.leaves for p in asked):
                        raise ValueError("leaf outside 0..%d" % (tree.leaves - 1))
                except (KeyError, ValueError) as e:
                    self.reply(400, "bad leaves: %s\n" % e)
                    return
                self.reply(200, "".join(tree.opening(p) + "\n" for p in asked))
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


def answer(nonce_hex, n, rounds):
    return digests_of(nonce_hex, n, rounds).hex()


def gfd_product():
    """The node's GPU product as GPU Feature Discovery labels it (nvidia.com/gpu.product): the
    device name with characters outside [A-Za-z0-9-_. ] stripped and spaces made '-'; "cpu" when
    the rounds run on the CPU. Raises ValueError when the node's GPUs are not all one product."""
    if not torch.cuda.is_available():
        return "cpu"
    names = {torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())}
    if len(names) != 1:
        raise ValueError("the node's GPUs are of several products (%s): calibrate on a node of one"
                         % ", ".join(sorted(names)))
    name = "".join(c for c in names.pop() if c.isascii() and (c.isalnum() or c in "-_. "))
    return name.strip().replace(" ", "-") or "unknown"


def three_digits_down(rate):
    """rate rounded down to three significant digits, as plain decimal text: a slightly low rate
    gives an honest node slightly more time, never less."""
    exponent = math.floor(math.log10(rate)) - 2
    if exponent >= 0:
        return "%d" % (math.floor(rate / 10 ** exponent) * 10 ** exponent)
    places = -exponent
    return "%.*f" % (places, math.floor(rate * 10 ** places) / 10 ** places)


def timed_commit(n, rounds, pool):
    """Seconds to compute and commit to rounds of size n, exactly as a committed challenge does
    (generation, product, fingerprint, Merkle tree, on every GPU of the node), and the root."""
    started = time.perf_counter()
    tree = committed_tree("00112233445566778899aabbccddeeff", n, rounds, pool)
    return time.perf_counter() - started, tree.root()


def bench(n, rounds=None):
    """Rounds per second of computing and committing (the digests and the whole tree), per GPU,
    with the setting that gives the operator this node's product's rate. Without rounds, as many
    as take at least GPUPOOL_CHALLENGE_BENCH_SECONDS (default 20), doubling from 8 a GPU."""
    product = gfd_product()
    gpus = len(devices())
    pool = hash_pool()
    least = float(os.environ.get(BENCH_SECONDS, "20"))
    count = rounds or 8 * gpus
    while True:
        seconds, root = timed_commit(n, count, pool)
        if rounds or seconds >= least or 2 * count > MAX_COMMITTED_ROUNDS:
            break
        count *= 2
    if pool is not None:
        pool.close()
    per_gpu = count / seconds / gpus
    print(
        "size %d, %d rounds, batch %d, %d hashing processes: %.2f s, %.1f rounds/s, root %s"
        % (n, count, batch_size(n, devices()[0]), pool._processes if pool else 0, seconds,
           count / seconds, root[:16])
    )
    figure = three_digits_down(per_gpu)
    print("product %s, %s, size %d: %s rounds/s per GPU"
          % (product, "%d GPUs" % gpus if torch.cuda.is_available() else "the CPU as one GPU", n,
             figure))
    print("chart values (trust.challenge.rates):")
    print("  - {product: %s, size: %d, roundsPerSecond: %s}" % (product, n, figure))
    print("operator setting (gpupool.trust.challenge.rates, GPUPOOL_TRUST_CHALLENGE_RATES; "
          "comma-separated with other products'):")
    print("  %s@%d=%s" % (product, n, figure))
    return 0


def parse_env():
    """The challenge from the env; raises ValueError saying what is missing or out of range."""
    try:
        nonce, n, rounds = os.environ[NONCE], int(os.environ[SIZE]), int(os.environ[ROUNDS])
    except (KeyError, ValueError) as e:
        raise ValueError("missing or bad %s, %s or %s: %s" % (NONCE, SIZE, ROUNDS, e))
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        raise ValueError("%s must be 32 lowercase hex digits" % NONCE)
    if not 8 <= n <= MAX_SIZE:
        raise ValueError("%s must be 8..%d, was %d" % (SIZE, MAX_SIZE, n))
    most = MAX_COMMITTED_ROUNDS if os.environ.get(PORT) else MAX_ANSWERED_ROUNDS
    if not 1 <= rounds <= most:
        raise ValueError(
            "%s must be 1..%d %s, was %d"
            % (ROUNDS, most, "when committed" if most > MAX_ANSWERED_ROUNDS else "without a port", rounds)
        )
    return nonce, n, rounds


def main(argv):
    if "--self-test" in argv:
        pinned = answer("00112233445566778899aabbccddeeff", 16, 3)
        print(pinned)
        print(committed_tree("00112233445566778899aabbccddeeff", 16, 3).root())
        return 0
    if argv and argv[0] == "--bench":
        if not 2 <= len(argv) <= 4 or not argv[1].isdigit() or not 8 <= int(argv[1]) <= MAX_SIZE:
            print("usage: challenge.py --bench SIZE [ROUNDS [BATCH]] (SIZE 8..%d)" % MAX_SIZE,
                  file=sys.stderr)
            return 2
        if len(argv) > 3:
            os.environ[BATCH] = argv[3]
        try:
            return bench(int(argv[1]), int(argv[2]) if len(argv) > 2 else None)
        except ValueError as e:
            print("challenge: %s" % e, file=sys.stderr)
            return 1
    try:
        nonce, n, rounds = parse_env()
    except ValueError as e:
        print("challenge: %s" % e, file=sys.stderr)
        return 2
    if os.environ.get(PORT):
        pool = hash_pool()  # forked before any kernel runs (its workers never use a GPU)
        tree = committed_tree(nonce, n, rounds, pool)
        if pool is not None:
            pool.close()
        opened = serve(int(os.environ[PORT]), tree, float(os.environ.get(WAIT, "600")))
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
