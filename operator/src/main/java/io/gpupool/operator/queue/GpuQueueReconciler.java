package io.gpupool.operator.queue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueStatus;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.StatusReplace;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Hands each GpuQueue to the {@link AdmissionController} and keeps its status true: pending and
 * admitted jobs, GPUs in use and borrowed per flavor. A bad spec the CRD let through (older
 * clusters without CEL) is shown in the {@code Valid} condition and the queue admits nothing.
 */
@ControllerConfiguration(name = GpuQueueReconciler.NAME)
public class GpuQueueReconciler implements Reconciler<GpuQueue>, Cleaner<GpuQueue> {
  public static final String NAME = "gpuqueue";
  private static final Logger LOG = Logger.getLogger(GpuQueueReconciler.class);

  /** Status is refreshed on admission rounds, at most this often per queue. */
  static final Duration MIN_REFRESH = Duration.ofSeconds(2);

  private final AdmissionController admission;
  private final KubernetesClient client;
  private final Clock clock = Clock.systemUTC();
  private final Map<String, Long> handedOver = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastWrite = new ConcurrentHashMap<>();
  private final SimpleInboundEventSource<GpuQueue> changes =
      new SimpleInboundEventSource<>("gpuqueue-admission");

  public GpuQueueReconciler(AdmissionController admission, KubernetesClient client) {
    this.admission = admission;
    this.client = client;
    admission.onQueueChange(name -> changes.propagateEvent(new ResourceID(name)));
  }

  @Override
  public List<EventSource<?, GpuQueue>> prepareEventSources(EventSourceContext<GpuQueue> context) {
    return List.of(changes);
  }

  @Override
  public UpdateControl<GpuQueue> reconcile(GpuQueue queue, Context<GpuQueue> context) {
    GpuQueueStatus before = StatusDiff.copy(queue.getStatus(), GpuQueueStatus.class);
    GpuQueueStatus status = queue.getStatus() == null ? new GpuQueueStatus() : queue.getStatus();
    Long generation = queue.getMetadata().getGeneration();
    String name = queue.getMetadata().getName();
    try {
      // The book lives in memory: after a restart every queue is handed over again.
      if (!generation.equals(handedOver.get(name))) {
        admission.putQueue(queue);
        handedOver.put(name, generation);
      }
      Conditions.set(
          status.conditions,
          "Valid",
          true,
          "Accepted",
          "quotas accepted",
          generation,
          clock.instant());
    } catch (IllegalArgumentException e) {
      admission.removeQueue(name);
      handedOver.put(name, generation);
      LOG.warnf("GpuQueue(%s) refused: %s", name, e.getMessage());
      Conditions.set(
          status.conditions,
          "Valid",
          false,
          "InvalidSpec",
          e.getMessage(),
          generation,
          clock.instant());
    }
    QueueStatusBuilder.fill(status, queue.getSpec(), admission.usage(name).orElse(null));
    status.observedGeneration = generation;
    if (before == null || StatusDiff.changed(before, status)) {
      // Figures move with every admission round; one write per queue every few seconds is enough.
      Instant now = clock.instant();
      Instant last = lastWrite.get(name);
      boolean specMoved = before == null || !generation.equals(before.observedGeneration);
      if (!specMoved && last != null && last.plus(MIN_REFRESH).isAfter(now)) {
        return UpdateControl.<GpuQueue>noUpdate()
            .rescheduleAfter(Duration.between(now, last.plus(MIN_REFRESH)).toMillis() + 1);
      }
      StatusReplace.write(client, GpuQueue.class, queue, status);
      lastWrite.put(name, now);
    }
    return UpdateControl.noUpdate();
  }

  @Override
  public DeleteControl cleanup(GpuQueue queue, Context<GpuQueue> context) {
    admission.removeQueue(queue.getMetadata().getName());
    handedOver.remove(queue.getMetadata().getName());
    lastWrite.remove(queue.getMetadata().getName());
    LOG.infof(
        "GpuQueue(%s) deleted: its pending jobs wait for it to return",
        queue.getMetadata().getName());
    return DeleteControl.defaultDelete();
  }
}
