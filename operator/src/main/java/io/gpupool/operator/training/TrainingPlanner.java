package io.gpupool.operator.training;

import io.gpupool.api.v1alpha1.PlanSummary;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Places training gangs over the live pool. Implementations decide and reserve in one step, so a
 * {@link Placed} result already holds its GPUs in the allocation ledger.
 */
public interface TrainingPlanner {

  /** What placing (or re-placing) a gang came to. */
  sealed interface Placement permits Placed, Unplaceable {}

  /** The gang's ranks, reserved, and the plan in the words status shows. */
  record Placed(List<RankAssignment> ranks, PlanSummary summary) implements Placement {}

  /**
   * Why no placement exists now, in words a user can act on; {@code lookAgainIn}: when something
   * changes without an event (the gang's wait reaches the hold threshold), or null.
   */
  record Unplaceable(String reason, Duration lookAgainIn) implements Placement {
    public Unplaceable(String reason) {
      this(reason, null);
    }
  }

  /** False until the pool and the pods that already hold GPUs have been read. */
  boolean ready();

  /** Plans the whole gang of {@code job}. */
  Placement place(TrainingJob job);

  /**
   * Re-places only the ranks on {@code lostNodes}, keeping the others where they are, or shrinks
   * the gang when {@code spec.parallelism.minWorkers} allows.
   */
  Placement repair(TrainingJob job, List<RankAssignment> current, Set<String> lostNodes);

  /** True while {@code job} holds GPUs (from its placement until it is released). */
  boolean holds(TrainingJob job);

  /**
   * Makes sure {@code job} holds the GPUs its status places {@code ranks} on (a gang restarts onto
   * them); true when they had to be reserved again, i.e. the ledger had lost them.
   */
  boolean cover(TrainingJob job, List<RankAssignment> ranks);

  /** Frees whatever {@code job} holds. */
  void release(TrainingJob job);

  /** {@code job} was deleted: it no longer waits for GPUs either. */
  void forget(TrainingJob job);
}
