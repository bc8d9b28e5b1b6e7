package io.gpupool.operator.allocation;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/**
 * Keeps the {@link AllocationLedger} true to the pods the operator's pod watch reports: foreign
 * pods count against their nodes, gpupool's own live pods against theirs, and a pod being deleted
 * keeps its GPUs on its own until the object is gone, as the kubelet and its device plugin keep
 * them until its containers have stopped.
 */
final class PodLedgerEvents implements ResourceEventHandler<Pod> {
  private final AllocationLedger ledger;

  PodLedgerEvents(AllocationLedger ledger) {
    this.ledger = ledger;
  }

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
    String job = PodGpus.owningJob(pod);
    if (job == null) {
      ledger.observeForeign(key(pod), null, 0);
    } else {
      ledger.observeOwn(key(pod), job, null, 0);
    }
  }

  private void observe(Pod pod) {
    int slots = PodGpus.terminal(pod) ? 0 : PodGpus.slots(pod);
    String job = PodGpus.owningJob(pod);
    if (job == null) {
      ledger.observeForeign(key(pod), pod.getSpec().getNodeName(), slots);
    } else if (pod.getMetadata().getDeletionTimestamp() != null) {
      ledger.observeLeaving(key(pod), pod.getSpec().getNodeName(), slots);
    } else {
      // Reserved by their job before they exist; counted as well while they live, so their GPUs
      // are never handed out again under them.
      ledger.observeOwn(key(pod), job, pod.getSpec().getNodeName(), slots);
    }
  }

  private static String key(Pod pod) {
    return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }
}
