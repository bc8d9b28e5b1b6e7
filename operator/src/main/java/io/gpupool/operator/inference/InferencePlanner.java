package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.InferenceJob;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Places inference replica groups over the live pool. A {@link Placed} result already holds its
 * GPUs in the allocation ledger, together with what the job held before.
 */
public interface InferencePlanner {

  /** What placing new replicas came to. */
  sealed interface Placement permits Placed, Unplaceable {}

  /** The new groups by replica index, reserved, and the scheduler's explanation. */
  record Placed(Map<Integer, List<ShardAssignment>> groups, String reason) implements Placement {}

  /** Why no placement exists now, in words a user can act on. */
  record Unplaceable(String reason) implements Placement {}

  /** False until the pool and the pods that already hold GPUs have been read. */
  boolean ready();

  /**
   * Places one replica group for each index in {@code replicas}, keeping what the job holds now.
   *
   * @param held slots by node the job's existing pods hold (the job's reservation becomes this plus
   *     the new groups)
   * @param usedProviders providers that already run a replica: avoided when the pool allows
   */
  Placement add(
      InferenceJob job,
      Map<String, Integer> held,
      Set<String> usedProviders,
      List<Integer> replicas);

  /** Sets the job's reservation to exactly {@code held} (after groups were removed). */
  void hold(InferenceJob job, Map<String, Integer> held);

  /** Frees whatever {@code job} holds. */
  void release(InferenceJob job);
}
