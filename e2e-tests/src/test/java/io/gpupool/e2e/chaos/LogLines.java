package io.gpupool.e2e.chaos;

import java.util.function.Predicate;

/** Lines of an operator's log, for the summary a failed chaos run prints. */
public final class LogLines {
  private static final int WIDTH = 240;

  private LogLines() {}

  /** The last line of {@code log} that {@code wanted} accepts, cut to a readable width; "none". */
  public static String last(String log, Predicate<String> wanted) {
    String[] lines = log.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].strip();
      if (wanted.test(line)) {
        return line.length() > WIDTH ? line.substring(0, WIDTH) + "..." : line;
      }
    }
    return "none";
  }
}
