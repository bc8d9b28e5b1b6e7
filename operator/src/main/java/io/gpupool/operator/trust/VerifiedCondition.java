package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.gpupool.operator.status.Conditions;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * GpuProvider's {@code Verified} condition, which has a third state: Unknown (NotYetChallenged)
 * until a verdict exists.
 */
public final class VerifiedCondition {
  public static final String TYPE = "Verified";

  private VerifiedCondition() {}

  /** Sets the condition; the transition time moves only when its status does. */
  public static void set(
      List<Condition> conditions, TrustLedger.VerifiedState state, Long generation, Instant now) {
    var existing = Conditions.find(conditions, TYPE);
    if (existing.isPresent()) {
      Condition c = existing.get();
      if (!Objects.equals(c.getStatus(), state.status())) {
        c.setLastTransitionTime(Conditions.timestamp(now));
      }
      c.setStatus(state.status());
      c.setReason(state.reason());
      c.setMessage(state.message());
      c.setObservedGeneration(generation);
      return;
    }
    conditions.add(
        new ConditionBuilder()
            .withType(TYPE)
            .withStatus(state.status())
            .withReason(state.reason())
            .withMessage(state.message())
            .withObservedGeneration(generation)
            .withLastTransitionTime(Conditions.timestamp(now))
            .build());
  }
}
