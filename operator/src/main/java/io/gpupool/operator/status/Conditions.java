package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes standard conditions. {@code lastTransitionTime} moves only when a condition's status
 * moves, so users can tell how long a job has been, say, Unschedulable.
 */
public final class Conditions {
  public static final String TRUE = "True";
  public static final String FALSE = "False";

  private Conditions() {}

  /** Sets a condition; returns true when anything about it changed. */
  public static boolean set(
      List<Condition> conditions,
      String type,
      boolean status,
      String reason,
      String message,
      Long observedGeneration,
      Instant now) {
    String statusText = status ? TRUE : FALSE;
    Optional<Condition> existing = find(conditions, type);
    if (existing.isPresent()) {
      Condition c = existing.get();
      boolean same =
          statusText.equals(c.getStatus())
              && Objects.equals(reason, c.getReason())
              && Objects.equals(message, c.getMessage())
              && Objects.equals(observedGeneration, c.getObservedGeneration());
      if (same) {
        return false;
      }
      if (!statusText.equals(c.getStatus())) {
        c.setLastTransitionTime(timestamp(now));
      }
      c.setStatus(statusText);
      c.setReason(reason);
      c.setMessage(message);
      c.setObservedGeneration(observedGeneration);
      return true;
    }
    conditions.add(
        new ConditionBuilder()
            .withType(type)
            .withStatus(statusText)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(observedGeneration)
            .withLastTransitionTime(timestamp(now))
            .build());
    return true;
  }

  /** Removes a condition; returns true when it was there. */
  public static boolean remove(List<Condition> conditions, String type) {
    return conditions.removeIf(c -> type.equals(c.getType()));
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }

  /** RFC 3339 at second precision, as the API server writes times. */
  public static String timestamp(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
