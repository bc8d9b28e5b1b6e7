package io.gpupool.operator.training;

import java.time.Instant;
import java.util.Optional;

/**
 * When a TrainingJob has run longer than its {@code spec.activeDeadlineSeconds}, counted from its
 * {@code status.startTime}. The schema bounds the deadline (a year), so every accepted value can be
 * added to any start time. Pure.
 */
public final class ActiveDeadline {
  private ActiveDeadline() {}

  /** When the job's time is up: {@code startTime} plus {@code deadlineSeconds}, if both are set. */
  public static Optional<Instant> at(Long deadlineSeconds, String startTime) {
    return deadlineSeconds == null || startTime == null
        ? Optional.empty()
        : Optional.of(Instant.parse(startTime).plusSeconds(deadlineSeconds));
  }

  /** True once {@code now} is past {@link #at}. */
  public static boolean exceeded(Long deadlineSeconds, String startTime, Instant now) {
    return at(deadlineSeconds, startTime).filter(end -> end.isBefore(now)).isPresent();
  }
}
