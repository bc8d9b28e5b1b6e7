package io.gpupool.api.v1alpha1;

/**
 * What the specs of both job kinds have in common and the operator's shared job loop reads: the
 * user's suspend switch and the budget. Methods, not getters, so the CRD schema stays the fields'.
 */
public interface JobSpec {
  /** True when {@code spec.suspend} asks for the job's pods to be removed and usage stopped. */
  boolean suspendRequested();

  /** {@code spec.budget}, or null when the job has none. */
  Budget budgetOrNull();
}
