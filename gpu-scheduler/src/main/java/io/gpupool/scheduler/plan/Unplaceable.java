package io.gpupool.scheduler.plan;

import java.util.List;

/**
 * The request cannot be placed now; {@code reason} says what would have to change, {@code details}
 * lists the filters and how many GPUs each one left.
 */
public record Unplaceable(String jobId, String reason, List<String> details) implements PlanResult {
  public Unplaceable {
    details = List.copyOf(details);
  }
}
