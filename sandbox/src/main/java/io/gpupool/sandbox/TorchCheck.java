package io.gpupool.sandbox;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/** Whether this machine can run the reference workloads: Debian's python3-torch. */
final class TorchCheck {
  static final String PYTHON = "/usr/bin/python3";
  static final String INSTALL =
      "sudo apt-get install -y --no-install-recommends python3-torch   # Debian/Ubuntu, ~35 s";

  private TorchCheck() {}

  /** True when {@value #PYTHON} imports torch; otherwise says how to install it. */
  static boolean available(PrintStream out) {
    try {
      Process p =
          new ProcessBuilder(PYTHON, "-c", "import torch")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return true;
      }
      p.destroyForcibly();
    } catch (Exception e) {
      // no Python there: same answer
    }
    out.println(
        "[sandbox] real workloads off: "
            + PYTHON
            + " has no torch, so examples/workloads are not applied (the simulated examples run"
            + " as usual). Install it with:\n[sandbox]   "
            + INSTALL);
    return false;
  }
}
