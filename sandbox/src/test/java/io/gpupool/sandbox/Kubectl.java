package io.gpupool.sandbox;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Drives the real kubectl against a kubeconfig; fails the test when kubectl is missing. */
final class Kubectl {

  /** Result of one kubectl run. */
  record Result(int exit, String out, String err) {
    Result ok() {
      if (exit != 0) {
        fail("kubectl exited " + exit + "\nstdout: " + out + "\nstderr: " + err);
      }
      return this;
    }
  }

  private final Path binary;
  private final Path kubeconfig;
  private final Path cacheDir;

  Kubectl(Path kubeconfig, Path cacheDir) {
    this.binary = find();
    this.kubeconfig = kubeconfig;
    this.cacheDir = cacheDir;
  }

  /** $KUBECTL, else kubectl on PATH; a missing kubectl fails the test with a clear message. */
  static Path find() {
    String explicit = System.getenv("KUBECTL");
    if (explicit != null && Files.isExecutable(Path.of(explicit))) {
      return Path.of(explicit);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail(
        "kubectl not found (not on PATH and $KUBECTL unset): the sandbox's kubectl tests need the"
            + " real kubectl binary (v1.27+)");
  }

  Result run(String... args) {
    return runWithInput(null, args);
  }

  Result runWithInput(String stdin, String... args) {
    try {
      Process p = process(args).start();
      if (stdin != null) {
        try (OutputStream o = p.getOutputStream()) {
          o.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      } else {
        p.getOutputStream().close();
      }
      var out = p.getInputStream().readAllBytes();
      var err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("kubectl " + String.join(" ", args) + " did not finish in 60 s");
      }
      return new Result(
          p.exitValue(),
          new String(out, StandardCharsets.UTF_8),
          new String(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return fail("cannot run kubectl", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted", e);
    }
  }

  /** A long-running kubectl (get -w, wait) whose output lines are collected. */
  Background start(String... args) {
    try {
      Process p = process(args).redirectErrorStream(true).start();
      p.getOutputStream().close();
      return new Background(p);
    } catch (IOException e) {
      return fail("cannot run kubectl", e);
    }
  }

  private ProcessBuilder process(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.add("--kubeconfig=" + kubeconfig);
    cmd.add("--cache-dir=" + cacheDir);
    cmd.add("--request-timeout=30s");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("KUBECONFIG");
    return pb;
  }

  /** Output of a background kubectl, line by line. */
  static final class Background implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    Background(Process process) {
      this.process = process;
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // process ended
                }
              });
      t.setDaemon(true);
      t.start();
    }

    /** Waits for a line containing {@code text}; fails with everything seen so far. */
    String awaitLine(String text, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null) {
          seen.add(line);
          if (line.contains(text)) {
            return line;
          }
        }
      }
      return fail("no line containing '" + text + "' within " + timeout + "; saw " + seen);
    }

    int awaitExit(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        fail("kubectl still running after " + timeout);
      }
      return process.exitValue();
    }

    @Override
    public void close() {
      process.destroy();
    }
  }
}
