package io.gpupool.operator.pool;

import io.gpupool.operator.trust.ChallengeRunner;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.RankPlacement;
import io.gpupool.scheduler.plan.Scheduler;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A job's preferred nodes held by the operator's own hardware challenge. A challenge takes a free
 * node for seconds (its answer is due within its deadline) and yields to any job placed first; a
 * job that prefers that node and arrives while it is being checked would otherwise lose its
 * preference for good to the operator's audit of the node, and run where the user did not want it.
 * Such a job waits for the challenge instead, but only when the node is what it prefers: the plan
 * the job would get with the challenges' holds set free carries more preferred weight than the plan
 * it gets now. The planner then has the ledger pass the challenge's slots to the job when the
 * challenge ends ({@code AllocationLedger.passOnRelease}): otherwise any job placed in the moment
 * between the end and the waiting job's next look could take the node. Pure apart from asking the
 * scheduler.
 */
final class PreferredNodesUnderChallenge {
  private PreferredNodesUnderChallenge() {}

  /**
   * The challenged nodes {@code request} waits for, sorted (empty: place it now). {@code now} is
   * the pool the job is planned on (its own holding left out), {@code challenges} the holdings of
   * the challenges (holder to slots by node, {@link ChallengeRunner#HOLDER_PREFIX}), and {@code
   * leavingOut} makes the pool of {@code now} without the given challenges' holdings.
   */
  static Set<String> awaited(
      Scheduler scheduler,
      JobRequest request,
      PoolSnapshot now,
      Map<String, Map<String, Integer>> challenges,
      Function<Set<String>, PoolSnapshot> leavingOut) {
    if (request.preferredNodes().isEmpty()) {
      return Set.of();
    }
    Set<String> challenged = new TreeSet<>();
    challenges.values().forEach(byNode -> challenged.addAll(byNode.keySet()));
    if (challenged.isEmpty()) {
      return Set.of();
    }
    PlanResult free = scheduler.plan(request, leavingOut.apply(challenges.keySet()));
    if (!(free instanceof Plan p)
        || preferredWeight(p) <= preferredWeight(scheduler.plan(request, now))) {
      return Set.of();
    }
    Set<String> awaited = new TreeSet<>();
    for (RankPlacement r : p.ranks()) {
      if (challenged.contains(r.node())) {
        awaited.add(r.node());
      }
    }
    return awaited;
  }

  /** The challenges (holders in {@code challenges}) that hold any of {@code nodes}, sorted. */
  static Set<String> holding(Map<String, Map<String, Integer>> challenges, Set<String> nodes) {
    Set<String> holders = new TreeSet<>();
    challenges.forEach(
        (holder, byNode) -> {
          if (byNode.keySet().stream().anyMatch(nodes::contains)) {
            holders.add(holder);
          }
        });
    return holders;
  }

  /** The plan's preferred node weight (0 for none, or when it is not a plan). */
  private static double preferredWeight(PlanResult r) {
    return r instanceof Plan p ? p.score().getOrDefault("preferredWeight", 0.0) : 0;
  }

  /** What a waiting job's status says. */
  static String describe(Set<String> nodes) {
    return "waits for the hardware challenge on its preferred node"
        + (nodes.size() == 1 ? " " : "s ")
        + String.join(", ", nodes)
        + " to end (seconds): the operator's check of a node does not take it from a job that"
        + " prefers it";
  }
}
