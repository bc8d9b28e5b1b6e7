package io.gpupool.operator.pool;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpupool.operator.allocation.PodGpus;

/**
 * What both job kinds' planners share: the planning context, a job's key in the allocation ledger
 * ({@code Kind/namespace/name}), whether the pool has been read, and freeing what a job holds.
 *
 * @param <J> the job resource
 */
abstract class LedgerPlanner<J extends HasMetadata> {
  protected final PlanningContext pool;
  private final String kind;

  protected LedgerPlanner(String kind, PlanningContext pool) {
    this.kind = kind;
    this.pool = pool;
  }

  /**
   * For the CDI client proxy of an application-scoped planner only: Quarkus cannot add a no-args
   * constructor to a bean whose superclass has none, and a proxy delegates every call.
   */
  protected LedgerPlanner() {
    this(null, null);
  }

  /** The ledger key of {@code job}. */
  protected final String holder(J job) {
    return PodGpus.holderKey(kind, job.getMetadata().getNamespace(), job.getMetadata().getName());
  }

  /** False until the pool and the pods that already hold GPUs have been read. */
  public boolean ready() {
    return pool.ready();
  }

  /** Frees every GPU slot the ledger holds for {@code job}. */
  public void release(J job) {
    pool.release(holder(job));
  }
}
