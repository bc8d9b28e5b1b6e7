package io.gpupool.operator.billing;

import java.util.Optional;

/**
 * Forfeits a proven cheat's unsettled and future usage of one job: from the moment the operator
 * proved the fraud, nothing more of that job's usage on that provider is settled, so the cheat is
 * not paid and the payer not charged for it.
 */
@FunctionalInterface
public interface UsageForfeits {

  /** Forfeits nothing (billing off, or tests of the dispute path alone). */
  UsageForfeits NONE = (job, provider, reason) -> Optional.empty();

  /**
   * Marks {@code job}'s usage on {@code provider} forfeited, persistently, before returning.
   *
   * @param provider the GpuProvider's name
   * @return one line for the job's events when a mark was stored, empty when none was
   */
  Optional<String> forfeit(JobRef job, String provider, String reason);
}
