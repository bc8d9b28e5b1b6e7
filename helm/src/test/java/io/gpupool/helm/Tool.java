package io.gpupool.helm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an external tool the ITs need (promtool, node); fails with a clear message when missing. */
final class Tool {
  /** Exit code and combined output of one run. */
  record Result(int exitCode, String output) {}

  private Tool() {}

  /** The executable on the PATH, or an AssertionError saying how to install it. */
  static Path require(String name, String install) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError(name + " is not on the PATH; install it: " + install);
  }

  static Result run(Path workDir, long timeoutSeconds, String... command) {
    List<String> cmd = new ArrayList<>(List.of(command));
    ProcessBuilder builder = new ProcessBuilder(cmd).directory(workDir.toFile());
    builder.redirectErrorStream(true);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(
            String.join(" ", cmd) + " timed out after " + timeoutSeconds + "s");
      }
      return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("could not run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + String.join(" ", cmd), e);
    }
  }
}
