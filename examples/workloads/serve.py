"""A tiny OpenAI-compatible completions server with a real (small) model, following gpupool's contract.

The model is a character-level GRU trained at start-up on a built-in text for a few seconds
(seeded: every replica learns the same weights), so nothing is downloaded. It serves:
- POST /v1/completions  {"prompt": str, "max_tokens": int, "temperature": float}  (OpenAI format)
- GET  /v1/models
- GET  /metrics         the gauge gpupool_inflight_requests (requests accepted and not yet
                        answered), which the operator's autoscaler reads, and a request counter
- GET  /health
With logprobs (an integer) in the request, the choice carries OpenAI's logprobs.tokens and
logprobs.token_logprobs (each generated token's log-probability under the model at temperature 1).
--substitute-model (or GPUPOOL_SANDBOX_SUBSTITUTE_MODEL=1, which the sandbox kubelet sets on a
dishonest provider's nodes) serves a cheaper model, another seed trained a fifth as long, under the
same name: what the operator's canary cross-checks catch (docs/inference.md).
It listens on POD_IP (the downward API's status.podIP; all addresses when unset) and GPUPOOL_PORT.
One replica is one pod: multi-shard groups (LWS_GROUP_SIZE > 1) are not supported by this server.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

import gpupool_contract as contract

CORPUS = (
    "gpupool turns a pool of community gpus into one place to train and serve models. "
    "a training job is split over unlike gpus, each worker takes the batch share its gpu can carry. "
    "when a node disappears the gang restarts from its last checkpoint and keeps training. "
    "providers are paid on chain for exactly the gpu time they delivered. "
)
CONTEXT = 16
SUBSTITUTE_ENV = "GPUPOOL_SANDBOX_SUBSTITUTE_MODEL"


class Model(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 32)
        self.gru = torch.nn.GRU(32, 64, batch_first=True)
        self.head = torch.nn.Linear(64, vocab)

    def forward(self, x):
        out, _ = self.gru(self.embed(x))
        return self.head(out)


def train(steps, seed):
    torch.manual_seed(seed)
    chars = sorted(set(CORPUS))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in CORPUS])
    model = Model(len(chars))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(seed)
    loss = None
    for _ in range(steps):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (32,), generator=g)
        x = torch.stack([data[s : s + CONTEXT] for s in starts])
        y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return model, chars, index, loss.item()


class Server:
    def __init__(self, model, chars, index, token_delay):
        self.model, self.chars, self.index = model, chars, index
        self.token_delay = token_delay
        self.lock = threading.Lock()
        self.inflight = 0
        self.served = 0

    def complete(self, prompt, max_tokens, temperature):
        """The completion's tokens and each one's log-probability."""
        ids = [self.index[c] for c in prompt.lower() if c in self.index] or [self.index[" "]]
        out, logprobs = [], []
        g = torch.Generator().manual_seed(len(prompt))
        with torch.no_grad():
            for _ in range(max_tokens):
                logits = self.model(torch.tensor([ids[-CONTEXT:]]))[0, -1]
                if temperature <= 0:
                    nxt = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    nxt = int(torch.multinomial(probs, 1, generator=g))
                ids.append(nxt)
                out.append(self.chars[nxt])
                logprobs.append(float(torch.log_softmax(logits, dim=-1)[nxt]))
                if self.token_delay > 0:
                    time.sleep(self.token_delay)  # stands for a GPU's per-token decode time
        return out, logprobs


def handler(server, model_name):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass  # one line per completion is printed below instead

        def reply(self, code, body, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/metrics":
                with server.lock:
                    inflight, served = server.inflight, server.served
                self.reply(
                    200,
                    f"# HELP {contract.INFLIGHT_METRIC} Requests accepted and not yet answered.\n"
                    f"# TYPE {contract.INFLIGHT_METRIC} gauge\n"
                    f"{contract.INFLIGHT_METRIC} {inflight}\n"
                    "# HELP gpupool_completions_total Completions answered.\n"
                    "# TYPE gpupool_completions_total counter\n"
                    f"gpupool_completions_total {served}\n",
                    "text/plain; version=0.0.4",
                )
            elif self.path == "/health":
                self.reply(200, {"status": "ok"})
            elif self.path == "/v1/models":
                self.reply(200, {"object": "list", "data": [{"id": model_name, "object": "model"}]})
            else:
                self.reply(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self):
            if self.path != "/v1/completions":
                self.reply(404, {"error": {"message": f"no route {self.path}"}})
                return
            with server.lock:
                server.inflight += 1
            try:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                    prompt = request.get("prompt", "")
                    if isinstance(prompt, list):
                        prompt = prompt[0] if prompt else ""
                    max_tokens = int(request.get("max_tokens", 16))
                    temperature = float(request.get("temperature", 0))
                    want_logprobs = request.get("logprobs") is not None
                    if not isinstance(prompt, str) or not 0 < max_tokens <= 512:
                        raise ValueError("prompt must be a string and max_tokens 1..512")
                except (ValueError, TypeError) as e:
                    self.reply(400, {"error": {"message": str(e), "type": "invalid_request_error"}})
                    return
                tokens, token_logprobs = server.complete(prompt, max_tokens, temperature)
                text = "".join(tokens)
                logprobs = (
                    {"tokens": tokens, "token_logprobs": token_logprobs} if want_logprobs else None
                )
                print(f"completion: {len(prompt)} prompt chars -> {max_tokens} tokens", flush=True)
                self.reply(
                    200,
                    {
                        "id": f"cmpl-{time.time_ns()}",
                        "object": "text_completion",
                        "created": int(time.time()),
                        "model": model_name,
                        "choices": [
                            {"text": text, "index": 0, "logprobs": logprobs, "finish_reason": "length"}
                        ],
                        "usage": {
                            "prompt_tokens": len(prompt),
                            "completion_tokens": max_tokens,
                            "total_tokens": len(prompt) + max_tokens,
                        },
                    },
                )
                with server.lock:
                    server.served += 1
            finally:
                with server.lock:
                    server.inflight -= 1

    return Handler


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-steps", type=int, default=150)
    p.add_argument("--token-delay", type=float, default=0.02, help="seconds per generated token")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--model-name", default="gpupool-tiny-char")
    p.add_argument(
        "--substitute-model",
        action="store_true",
        default=os.environ.get(SUBSTITUTE_ENV) == "1",
        help="serve a cheaper model (another seed, a fifth of the training) under the same name",
    )
    args = p.parse_args(argv)
    if contract.env_int(contract.GROUP_SIZE, default=1) > 1:
        raise SystemExit("serve.py serves a whole model in one pod: use a model that fits one GPU")
    torch.set_num_threads(1)
    started = time.monotonic()
    steps, seed = args.train_steps, args.seed
    if args.substitute_model:
        steps, seed = max(1, steps // 5), seed + 1
        print(f"substitute model: seed {seed}, {steps} training steps", flush=True)
    model, chars, index, loss = train(steps, seed)
    print(
        f"model trained in {time.monotonic() - started:.1f}s: {sum(p.numel() for p in model.parameters())}"
        f" parameters, loss {loss:.3f}, replica {contract.env(contract.REPLICA_INDEX, '0')}"
        f" on {contract.env(contract.GPU_MODEL, 'unknown')}",
        flush=True,
    )
    host = contract.env(contract.POD_IP, "0.0.0.0")
    port = contract.env_int(contract.PORT, default=8000)
    httpd = ThreadingHTTPServer((host, port), handler(Server(model, chars, index, args.token_delay), args.model_name))
    httpd.daemon_threads = True
    print(f"serving {args.model_name} on http://{host}:{port}/v1/completions", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
