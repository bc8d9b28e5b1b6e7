package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Usage;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * {@code spec.budget.maxCost}: the most a job may cost in total. Once its metered cost reaches the
 * cap no pod of it may run until the cap is raised (a TrainingJob's gang and an InferenceJob's
 * replicas alike). Pure.
 */
public final class CostCap {
  /** Condition reason when the cap is reached. */
  public static final String REASON = "BudgetExhausted";

  private CostCap() {}

  /** Why the job may not run any more, or empty while it is under its cap (or has none). */
  public static Optional<String> reached(Budget budget, Usage usage) {
    if (budget == null || budget.maxCost == null || usage == null || usage.cost == null) {
      return Optional.empty();
    }
    BigDecimal cap;
    BigDecimal cost;
    try {
      cap = new BigDecimal(budget.maxCost.trim());
      cost = new BigDecimal(usage.cost.trim());
    } catch (NumberFormatException e) {
      return Optional.empty(); // the validator refuses a malformed cap before we get here
    }
    if (cost.compareTo(cap) < 0) {
      return Optional.empty();
    }
    return Optional.of(
        "cost "
            + cost.stripTrailingZeros().toPlainString()
            + " reached spec.budget.maxCost "
            + cap.stripTrailingZeros().toPlainString()
            + "; raise it to run again");
  }
}
