package io.gpupool.e2e;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;

/**
 * The sandbox's own log (its kubelets' admissions, refusals and pod ends) kept next to the
 * operator's under target/e2e-logs, time-stamped as the operator's lines are, so a pod the kubelet
 * refused can be matched with the placement that sent it there.
 */
final class SandboxLogFile implements Consumer<String>, AutoCloseable {
  private final BufferedWriter out;

  SandboxLogFile(Path file) {
    try {
      this.out = Files.newBufferedWriter(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  @Override
  public synchronized void accept(String line) {
    try {
      out.write(LocalTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS) + " " + line);
      out.newLine();
      out.flush(); // read while the run goes on, and complete when the JVM is killed
    } catch (IOException e) {
      // a full disk must not stop the kubelet simulator
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      // nothing more can be written anyway
    }
  }
}
