"""gpupool's reference weights fetcher: the fetch-weights init container of an InferenceJob.

Fills GPUPOOL_WEIGHTS_DIR from GPUPOOL_WEIGHTS_URI unless a complete copy is already there (a
node-local cache another replica filled), and says which in the container's termination message:
"Hit" or "Miss" (docs/inference.md, "Model weights cache"). A copy is complete once the marker
file exists; the download goes to a temporary directory first and is renamed into place, so a pod
killed mid-pull never leaves a copy that looks complete.

    file:///path/to/model   a file or a directory, copied
    http(s)://host/model.safetensors, .../model.tar(.gz)   one file; archives are unpacked
"""

import argparse
import pathlib
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request

import gpupool_contract as contract

MARKER = ".gpupool-complete"


def fetch(uri, into):
    """Puts the weights at `uri` into the empty directory `into`."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        source = pathlib.Path(urllib.parse.unquote(parsed.path))
        if source.is_dir():
            shutil.copytree(source, into, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, into / source.name)
        else:
            raise SystemExit(f"{uri}: no such file or directory")
    elif parsed.scheme in ("http", "https"):
        name = pathlib.PurePosixPath(parsed.path).name or "weights"
        target = into / name
        with urllib.request.urlopen(uri, timeout=60) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        if name.endswith((".tar", ".tar.gz", ".tgz")):
            with tarfile.open(target) as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(into, filter="data")  # no paths outside `into`
                else:
                    archive.extractall(into)
            target.unlink()
    else:
        raise SystemExit(
            f"{uri}: scheme {parsed.scheme!r} is not fetched by this reference fetcher"
            " (file, http, https); set the operator's fetcher image for others"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--termination-log", default="/dev/termination-log")
    args = parser.parse_args(argv)
    uri = contract.env(contract.WEIGHTS_URI)
    directory = contract.env(contract.WEIGHTS_DIR)
    if uri is None or directory is None:
        raise SystemExit(
            f"{contract.WEIGHTS_URI} and {contract.WEIGHTS_DIR} must be set:"
            " gpupool sets them on the fetch-weights init container"
        )
    root = pathlib.Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    complete = root / MARKER
    if complete.exists() and complete.read_text().strip() == uri:
        outcome = "Hit"
    else:
        staging = pathlib.Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
        try:
            fetch(uri, staging)
            for item in list(root.iterdir()):
                if item.name != staging.name:
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
            for item in staging.iterdir():
                item.rename(root / item.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        complete.write_text(uri + "\n")
        outcome = "Miss"
    print(f"weights {uri}: {outcome} in {root}", flush=True)
    try:
        pathlib.Path(args.termination_log).write_text(outcome)
    except OSError as e:
        print(f"cannot write the termination message: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
