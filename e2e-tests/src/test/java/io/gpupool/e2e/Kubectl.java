package io.gpupool.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the machine's real kubectl against the sandbox, as a user would. */
final class Kubectl {
  /** What one kubectl call printed and how it ended. */
  record Result(int exitCode, String out, String err) {
    Result expectSuccess() {
      if (exitCode != 0) {
        throw new AssertionError("kubectl failed (" + exitCode + "): " + err + out);
      }
      return this;
    }
  }

  private final Path kubeconfig;

  Kubectl(Path kubeconfig) {
    this.kubeconfig = kubeconfig;
  }

  /** The kubectl binary; a missing one fails the test with a clear message instead of skipping. */
  static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new AssertionError(
        "kubectl is not on the PATH: the end-to-end tests drive the sandbox with the real kubectl");
  }

  /** The messages of the events about the object named {@code name} with {@code reason}. */
  String eventMessages(String name, String reason) {
    return run(
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=" + name,
            "-o",
            "jsonpath={.items[?(@.reason==\"" + reason + "\")].message}")
        .expectSuccess()
        .out();
  }

  Result run(String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary());
    command.add("--kubeconfig=" + kubeconfig);
    command.add("--request-timeout=20s");
    command.addAll(List.of(args));
    try {
      Path out = Files.createTempFile("kubectl", ".out");
      Path err = Files.createTempFile("kubectl", ".err");
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish in 180 s");
      }
      Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      return r;
    } catch (IOException e) {
      throw new AssertionError("cannot run kubectl", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Applies a manifest given as text. */
  Result applyText(String yaml) {
    try {
      Path file = Files.createTempFile("manifest", ".yaml");
      Files.writeString(file, yaml, StandardCharsets.UTF_8);
      Result r = run("apply", "-f", file.toString());
      Files.deleteIfExists(file);
      return r;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Starts a long-running kubectl (e.g. {@code get -w}) whose output lands in {@code out}. */
  Process start(Path out, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(binary());
    command.add("--kubeconfig=" + kubeconfig);
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .start();
  }
}
