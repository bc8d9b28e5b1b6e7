package io.gpupool.sandbox.api;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

/**
 * {@code kubectl logs} of a process-mode container: the whole file, its last lines, or ({@code -f})
 * a chunked response that sends what the process appends until it ends.
 */
final class PodLogFollower {
  private static final long POLL_MILLIS = 200;

  private PodLogFollower() {}

  /** The log, or its last {@code tailLines} lines. */
  static String read(PodLogSource.ContainerLog log, String tailLines) {
    String text;
    try {
      text = Files.exists(log.file()) ? Files.readString(log.file(), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "sandbox: cannot read " + log.file() + ": " + e.getMessage() + "\n";
    }
    if (tailLines == null) {
      return text;
    }
    int n;
    try {
      n = Integer.parseInt(tailLines);
    } catch (NumberFormatException e) {
      return text;
    }
    if (n < 0) {
      return text;
    }
    List<String> lines = text.lines().toList();
    List<String> tail = lines.subList(Math.max(0, lines.size() - n), lines.size());
    return tail.isEmpty() ? "" : String.join("\n", tail) + "\n";
  }

  /** Streams the log from its start, then what is appended, until the process ended. */
  static void start(Vertx vertx, HttpServerResponse response, PodLogSource.ContainerLog log) {
    response
        .setStatusCode(200)
        .setChunked(true)
        .putHeader("Content-Type", "text/plain")
        .putHeader("Cache-Control", "no-cache, private");
    response.write("");
    long[] offset = {0};
    long[] timer = {0};
    timer[0] =
        vertx.setPeriodic(
            0,
            POLL_MILLIS,
            id -> {
              if (response.closed() || response.ended()) {
                vertx.cancelTimer(id);
                return;
              }
              boolean running = log.running().getAsBoolean();
              byte[] more = readFrom(log, offset);
              if (more.length > 0) {
                response.write(Buffer.buffer(more));
              }
              if (!running && more.length == 0) {
                vertx.cancelTimer(id);
                response.end();
              }
            });
  }

  private static byte[] readFrom(PodLogSource.ContainerLog log, long[] offset) {
    if (!Files.exists(log.file())) {
      return new byte[0];
    }
    try (RandomAccessFile f = new RandomAccessFile(log.file().toFile(), "r")) {
      long length = f.length();
      if (length <= offset[0]) {
        return new byte[0];
      }
      byte[] bytes = new byte[(int) Math.min(length - offset[0], 1 << 20)];
      f.seek(offset[0]);
      f.readFully(bytes);
      offset[0] += bytes.length;
      return bytes;
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
