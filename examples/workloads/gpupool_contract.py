"""The gpupool workload contract, read in one place by the reference workloads.

Every variable a workload reads is named here once; docs/workloads.md documents each of them and
a test checks that the two lists agree. The operator writes these into every pod it creates
(operator/.../training/GangEnv.java and inference/InferenceGroup.java).
"""

import os
import pathlib
import urllib.parse

# torchrun / PyTorchJob variables, set by the operator and read by torchrun itself.
TORCHRUN_VARS = (
    "MASTER_ADDR",
    "MASTER_PORT",
    "WORLD_SIZE",
    "RANK",
    "PET_NNODES",
    "PET_NPROC_PER_NODE",
    "PET_NODE_RANK",
    "PET_MASTER_ADDR",
    "PET_MASTER_PORT",
    "PET_RDZV_ENDPOINT",
    "PET_RDZV_BACKEND",
    "PET_RDZV_ID",
    "PET_MAX_RESTARTS",
)

# gpupool's own training variables: the heterogeneous part of a split.
JOB_NAME = "GPUPOOL_JOB_NAME"
STRATEGY = "GPUPOOL_STRATEGY"
GPU_MODEL = "GPUPOOL_GPU_MODEL"
BATCH_SHARE = "GPUPOOL_BATCH_SHARE"
LOCAL_BATCH_SIZE = "GPUPOOL_LOCAL_BATCH_SIZE"
STAGE_INDEX = "GPUPOOL_STAGE_INDEX"
STAGE_COUNT = "GPUPOOL_STAGE_COUNT"
FIRST_LAYER = "GPUPOOL_FIRST_LAYER"
LAST_LAYER = "GPUPOOL_LAST_LAYER"
RESTART_COUNT = "GPUPOOL_RESTART_COUNT"
CHECKPOINT_URI = "GPUPOOL_CHECKPOINT_URI"
CHECKPOINT_INTERVAL = "GPUPOOL_CHECKPOINT_INTERVAL_SECONDS"
RESUME_FROM = "GPUPOOL_RESUME_FROM"
# Set with RESUME_FROM when the operator rewinds a gang to a verified checkpoint: load that step,
# not "latest" (0: the seed's initial state).
RESUME_STEP = "GPUPOOL_RESUME_STEP"
# A file, empty until the job is preempted in its queue, then the time its pods will be removed:
# write a checkpoint and exit before it.
PREEMPT_NOTICE = "GPUPOOL_PREEMPT_NOTICE"

# Sandbox only: set by the sandbox's kubelet on the nodes of its dishonest training provider, so
# that ddp_train.py skips every Nth optimizer step it claims (what spot-checks must catch).
SANDBOX_SKIP_OPTIMIZER_STEPS = "SANDBOX_SKIP_OPTIMIZER_STEPS"

# Inference variables.
GROUP_SIZE = "LWS_GROUP_SIZE"
PORT = "GPUPOOL_PORT"
REPLICA_INDEX = "GPUPOOL_REPLICA_INDEX"
GPU_SHARE_MILLI = "GPUPOOL_GPU_SHARE_MILLI"
POD_IP = "POD_IP"

# The weights fetch init container of an InferenceJob with spec.weights (fetch_weights.py).
WEIGHTS_URI = "GPUPOOL_WEIGHTS_URI"
WEIGHTS_DIR = "GPUPOOL_WEIGHTS_DIR"
WEIGHTS_BYTES = "GPUPOOL_WEIGHTS_BYTES"

# The gauge the operator's autoscaler scrapes from an inference leader.
INFLIGHT_METRIC = "gpupool_inflight_requests"


def env(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_int(name, default=None):
    value = env(name)
    if value is None:
        if default is None:
            raise SystemExit(f"{name} is not set: gpupool sets it on every pod it creates")
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not an integer")


def env_float(name, default=None):
    value = env(name)
    if value is None:
        if default is None:
            raise SystemExit(f"{name} is not set: gpupool sets it on every pod it creates")
        return default
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a number")


def local_path(uri):
    """A checkpoint URI as a local directory: file:// URIs and plain paths are used as they are.

    Object-store URIs (s3://, gs://) need a mounted or fused bucket on a real cluster; the sandbox
    rewrites them to file:// URIs of a folder the job's pods share.
    """
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        return pathlib.Path(urllib.parse.unquote(parsed.path))
    if parsed.scheme == "":
        return pathlib.Path(uri)
    raise SystemExit(
        f"checkpoint URI {uri} has scheme {parsed.scheme}: mount the bucket and pass a file:// URI"
        " or a path (the sandbox maps s3:// URIs to a local folder itself)"
    )
