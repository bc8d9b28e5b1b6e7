package io.gpupool.scheduler.plan;

/** Either a {@link Plan} or an {@link Unplaceable}. */
public sealed interface PlanResult permits Plan, Unplaceable {
  /** True for a plan. */
  default boolean placed() {
    return this instanceof Plan;
  }
}
