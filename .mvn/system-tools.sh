#!/usr/bin/env bash
# The test suite's guard on system prerequisites: `./mvnw verify` runs it first (root pom, validate,
# skipped with -DskipTests) so a missing tool stops the build at once with the apt package that
# brings it, instead of failing tests one by one minutes later. Skip with -DskipPrerequisites.
set -uo pipefail

# The README's one apt line; .ci/run installs exactly these (ReadmeCommandsTest keeps them equal).
APT_PACKAGES="openjdk-17-jdk nodejs npm prometheus python3-torch"

missing=()
need() { # need COMMAND PACKAGE WHY
  if ! command -v "$1" >/dev/null 2>&1; then
    missing+=("$1 (apt package $2): $3")
  fi
}
need java openjdk-17-jdk "builds and runs everything"
need node nodejs "solc-js compile script, dashboard type check"
need npm npm "installs the contract and dashboard tools from their lock files"
need prometheus prometheus "dashboards' PromQL and the E2Es' scrapes"
need promtool prometheus "alert rule unit tests"
# Debian's python3-torch puts torchrun in /usr/bin (a pyenv python earlier on the PATH does not see it).
if ! [ -x /usr/bin/torchrun ] && ! command -v torchrun >/dev/null 2>&1; then
  missing+=("torchrun (apt package python3-torch): the E2Es that run real PyTorch workloads")
fi
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=("kubectl (not an apt package here: the machine image brings it; Debian's kubernetes-client is kubectl 1.20, too old): the sandbox and E2E tests drive it")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "gpupool: the test suite needs system tools that are missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  echo "gpupool: install them with: sudo apt-get install -y --no-install-recommends $APT_PACKAGES" >&2
  echo "gpupool: (or skip this check with -DskipPrerequisites=true; the tests that need a tool will fail)" >&2
  exit 1
fi
