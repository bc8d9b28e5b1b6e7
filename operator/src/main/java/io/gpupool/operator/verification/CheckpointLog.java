package io.gpupool.operator.verification;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the checkpoints a trainer committed in its rank-0 log: the workload contract's line {@code
 * GPUPOOL-CHECKPOINT {"step": N}}, printed after the checkpoint and every rank's commitment for it
 * are written (docs/workloads.md, "Commitments"). torchrun may prefix the line. Pure.
 */
public final class CheckpointLog {
  /** The marker that starts a checkpoint line. */
  public static final String MARKER = "GPUPOOL-CHECKPOINT ";

  private static final Pattern LINE =
      Pattern.compile(Pattern.quote(MARKER) + "\\{\\s*\"step\"\\s*:\\s*(\\d{1,15})\\s*}");

  private CheckpointLog() {}

  /** Checkpoint steps in the log after {@code after}, ascending, each once. */
  public static List<Long> stepsAfter(String log, long after) {
    TreeSet<Long> steps = new TreeSet<>();
    Matcher m = LINE.matcher(log);
    while (m.find()) {
      long step = Long.parseLong(m.group(1));
      if (step > after) {
        steps.add(step);
      }
    }
    return new ArrayList<>(steps);
  }
}
