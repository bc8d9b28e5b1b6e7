package io.gpupool.operator.allocation;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.workload.ClusterPods;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Follows every pod that takes GPUs (through the operator's one pod watch) and keeps the {@link
 * AllocationLedger} true to them: foreign pods count against their nodes, gpupool's own live pods
 * against theirs, and at start-up every job's running pods and status placements ({@link
 * GangClaims}) are adopted as reservations before any new placement is made.
 */
@ApplicationScoped
public class PodTracker {
  private static final Logger LOG = Logger.getLogger(PodTracker.class);

  private final ClusterPods pods;
  private final AllocationLedger ledger;
  private final Instance<GangClaims> claims;
  private volatile boolean adopted;

  public PodTracker(ClusterPods pods, AllocationLedger ledger, Instance<GangClaims> claims) {
    this.pods = pods;
    this.ledger = ledger;
    this.claims = claims;
  }

  void start(@Observes StartupEvent ignored) {
    pods.listen(new PodLedgerEvents(ledger));
  }

  /**
   * True once the pods that existed at start-up are in the ledger; placing before that could hand
   * out GPUs a running gang holds.
   */
  public boolean ready() {
    if (adopted) {
      return true;
    }
    if (!pods.synced()) {
      return false;
    }
    synchronized (this) {
      if (!adopted) {
        Map<String, Map<String, Integer>> claimed = new HashMap<>();
        try {
          claims.forEach(c -> c.claims().forEach(claimed::put));
        } catch (RuntimeException e) {
          LOG.warnf("cannot read the jobs' placements yet, placing nothing: %s", e.toString());
          return false;
        }
        adoptRunningGangs(claimed);
        adopted = true;
      }
    }
    return true;
  }

  private void adoptRunningGangs(Map<String, Map<String, Integer>> claimed) {
    Map<String, Map<String, Integer>> held = standing(pods.list(), claimed);
    // Covering (not replacing) keeps what a job reserved since start-up.
    held.forEach(ledger::cover);
    LOG.infof("adopted GPU reservations of %d placed jobs", held.size());
  }

  /**
   * What each job holds at start-up: per node the larger of what its live pods request and what its
   * status placements claim.
   */
  static Map<String, Map<String, Integer>> standing(
      List<Pod> pods, Map<String, Map<String, Integer>> claimed) {
    Map<String, Map<String, Integer>> held = new HashMap<>();
    for (Pod pod : pods) {
      String job = PodGpus.owningJob(pod);
      if (job != null && !PodGpus.terminal(pod) && pod.getSpec().getNodeName() != null) {
        held.computeIfAbsent(job, j -> new HashMap<>())
            .merge(pod.getSpec().getNodeName(), PodGpus.slots(pod), Integer::sum);
      }
    }
    claimed.forEach(
        (job, slots) ->
            slots.forEach(
                (node, n) ->
                    held.computeIfAbsent(job, j -> new HashMap<>()).merge(node, n, Math::max)));
    return held;
  }
}
