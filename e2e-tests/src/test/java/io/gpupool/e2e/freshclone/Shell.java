package io.gpupool.e2e.freshclone;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command in a folder with an environment of its own; output kept for assertions. */
final class Shell {
  static final Path REPO =
      Path.of(System.getProperty("gpupool.repo", "..")).toAbsolutePath().normalize();

  /** How a command ended and what it printed (stdout and stderr together). */
  record Result(int exit, String output, long millis) {
    Result expectSuccess(String what) {
      if (exit != 0) {
        throw new AssertionError(what + " failed with exit code " + exit + ":\n" + tail());
      }
      return this;
    }

    String tail() {
      return output.length() <= 6000 ? output : "…" + output.substring(output.length() - 6000);
    }
  }

  private Shell() {}

  static Result run(Path dir, Map<String, String> env, long timeoutSeconds, List<String> cmd) {
    try {
      Path out = Files.createTempFile("shell-", ".log");
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
      pb.redirectOutput(out.toFile());
      pb.environment().putAll(env);
      long start = System.nanoTime();
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            String.join(" ", cmd)
                + " did not finish in "
                + timeoutSeconds
                + " s:\n"
                + Files.readString(out, StandardCharsets.UTF_8));
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      String output = Files.readString(out, StandardCharsets.UTF_8);
      Files.deleteIfExists(out);
      return new Result(p.exitValue(), output, millis);
    } catch (IOException e) {
      throw new AssertionError("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /**
   * A PATH folder holding only {@code tools} (symlinks to the machine's), for missing-tool tests.
   */
  static Path pathWith(Path dir, String... tools) throws IOException {
    Files.createDirectories(dir);
    for (String tool : tools) {
      Path real =
          List.of("/usr/bin", "/bin").stream()
              .map(d -> Path.of(d, tool))
              .filter(Files::isExecutable)
              .findFirst()
              .orElseThrow(() -> new AssertionError(tool + " not found in /usr/bin or /bin"));
      Files.createSymbolicLink(dir.resolve(tool), real);
    }
    return dir;
  }
}
