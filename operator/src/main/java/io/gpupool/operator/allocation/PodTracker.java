package io.gpupool.operator.allocation;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.operator.workload.ClusterPods;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Follows every pod that takes GPUs (through the operator's one pod watch) and keeps the {@link
 * AllocationLedger} true to them: foreign pods count against their nodes, and at start-up gpupool's
 * own running pods are adopted as reservations before any new placement is made.
 */
@ApplicationScoped
public class PodTracker {
  private static final Logger LOG = Logger.getLogger(PodTracker.class);

  private final ClusterPods pods;
  private final AllocationLedger ledger;
  private volatile boolean adopted;

  public PodTracker(ClusterPods pods, AllocationLedger ledger) {
    this.pods = pods;
    this.ledger = ledger;
  }

  void start(@Observes StartupEvent ignored) {
    pods.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Pod pod) {
            observe(pod);
          }

          @Override
          public void onUpdate(Pod oldPod, Pod pod) {
            observe(pod);
          }

          @Override
          public void onDelete(Pod pod, boolean finalStateUnknown) {
            if (PodGpus.owningJob(pod) == null) {
              ledger.observeForeign(key(pod), null, 0);
            }
          }
        });
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
        adoptRunningGangs();
        adopted = true;
      }
    }
    return true;
  }

  private void adoptRunningGangs() {
    Map<String, Map<String, Integer>> held = new HashMap<>();
    for (Pod pod : pods.list()) {
      String job = PodGpus.owningJob(pod);
      if (job != null && !PodGpus.terminal(pod) && pod.getSpec().getNodeName() != null) {
        held.computeIfAbsent(job, j -> new HashMap<>())
            .merge(pod.getSpec().getNodeName(), PodGpus.slots(pod), Integer::sum);
      }
    }
    held.forEach(
        (job, slots) -> {
          if (!ledger.holds(job)) {
            ledger.hold(job, slots);
          }
        });
    LOG.infof("adopted GPU reservations of %d running jobs", held.size());
  }

  private void observe(Pod pod) {
    if (PodGpus.owningJob(pod) != null) {
      return; // gpupool's own pods are reserved by their job before they exist
    }
    int slots = PodGpus.terminal(pod) ? 0 : PodGpus.slots(pod);
    ledger.observeForeign(key(pod), pod.getSpec().getNodeName(), slots);
  }

  private static String key(Pod pod) {
    return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }
}
