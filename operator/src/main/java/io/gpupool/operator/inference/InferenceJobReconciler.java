package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.job.CapacityEvents;
import io.gpupool.operator.job.JobCluster;
import io.gpupool.operator.job.JobControl;
import io.gpupool.operator.job.JobLoop;
import io.gpupool.operator.job.JobWakeups;
import io.gpupool.operator.queue.InferenceWorkloads;
import io.gpupool.operator.scope.SelectedNamespaces;
import io.gpupool.operator.workload.CachedWorkloads;
import io.gpupool.operator.workload.GroupBinder;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.OwnedPodEvents;
import io.gpupool.operator.workload.OwnedPods;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.Set;

/**
 * Drives an InferenceJob through the shared job loop ({@link InferenceLoop}): places replica groups
 * (GPU shares, whole GPUs or sharded groups), keeps the desired count serving behind one Service,
 * recreates a group whose shard failed or whose node was lost, scales on in-flight requests and
 * rolls spec changes out replica by replica. This class is the JOSDK side: event sources (the job's
 * pods and Services, read from informers, never listed per reconcile), wake-ups, deletion.
 *
 * <p>Capacity events wake waiting jobs; only the load signal is polled (load has no events).
 */
@ControllerConfiguration(name = InferenceJobReconciler.NAME)
public class InferenceJobReconciler implements Reconciler<InferenceJob>, Cleaner<InferenceJob> {
  /** The selector scope: jobs of namespaces it does not select are left alone. */
  @Inject SelectedNamespaces scope;

  public static final String NAME = "inferencejob";
  static final String KIND = InferenceGroup.KIND;

  /** Condition: the last autoscaling decision (ScaledUp, ScaledDown, ScaleDownPending, Steady). */
  public static final String SCALING = "Scaling";

  /** Condition: at least the minimum replicas are ready behind the endpoint. */
  public static final String SERVING = "Serving";

  /** Condition: pods run an older spec and are being replaced replica by replica. */
  public static final String ROLLING_UPDATE = "RollingUpdate";

  private final JobCluster cluster;
  private final ServingPool pool;
  private final Autoscaling autoscaling;
  private final InferencePlanner planner;
  private final ReplicaQueues queues;
  private final BillingService billing;
  private final CrossChecks crossChecks;
  private final GroupBinder binder;
  private final JobWakeups<InferenceJob> wakeups;
  private final JobControl<InferenceJobStatus, InferenceJob> control;
  private volatile InferenceLoop loop;
  private volatile FrontService front;

  /**
   * Read as the job's loop: what it observes (the cluster's pods and Services, capacity changes,
   * the nodes and weights caches replicas run on, their load), what decides (the planner, the
   * queues' admission, billing's funding gate), and the cross-checks of the trust layer.
   */
  public InferenceJobReconciler(
      JobCluster cluster,
      CapacityEvents capacity,
      ServingPool pool,
      Autoscaling autoscaling,
      InferencePlanner planner,
      ReplicaQueues queues,
      BillingService billing,
      CrossChecks crossChecks,
      GroupBinder binder) {
    this.cluster = cluster;
    this.pool = pool;
    this.autoscaling = autoscaling;
    this.planner = planner;
    this.queues = queues;
    this.billing = billing;
    this.crossChecks = crossChecks;
    this.binder = binder;
    this.wakeups = new JobWakeups<>(KIND, "inferencejob-capacity", cluster.metrics());
    this.control =
        new JobControl<>(InferenceJob.class, KIND, cluster, wakeups, billing::beforeDeleting);
    capacity.onChange(this::wake);
    // Admission wakes the jobs a decision round concerns: minimum or a replica admitted, evicted,
    // moved up its queue.
    queues
        .rounds()
        .onWake(
            id -> InferenceWorkloads.jobOf(id).ifPresent(ref -> wakeups.wake(ref, "admission")));
    // A job looked at before its queue existed runs, or waits, outside any queue.
    queues
        .rounds()
        .onQueueAdded(
            queue ->
                wakeups.wakeWhere(
                    "queue", job -> job.getStatus() == null || job.getStatus().queue == null));
    // The loop is built with the event sources; a metering before that has no job to wake.
    wakeups.followBilling(
        billing,
        job -> {
          InferenceLoop kind = loop;
          return kind != null && kind.watchesCost(job);
        });
  }

  @Override
  public List<EventSource<?, InferenceJob>> prepareEventSources(
      EventSourceContext<InferenceJob> context) {
    String selector = GpupoolApi.JOB_KIND_LABEL + "=" + KIND;
    OwnedPodEvents<InferenceJob> pods =
        new OwnedPodEvents<>(cluster.pods(), InferenceJob.class, "inferencejob-pods");
    InformerEventSource<Service, InferenceJob> services =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Service.class, InferenceJob.class)
                .withName("inferencejob-services")
                .withLabelSelector(selector)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(InferenceJob.class))
                .build(),
            context);
    OwnedPods<InferenceJob> owned = new OwnedPods<>(pods);
    this.front = new FrontService(services);
    this.loop =
        new InferenceLoop(
            cluster,
            new InferenceLoop.Observes(
                pool,
                autoscaling,
                new InferenceLoop.Reads(owned::of, services::getSecondaryResources)),
            new InferenceLoop.Deciders(
                planner, billing, new QueuedReplicas(queues.admission(), cluster.events())),
            new InferenceLoop.Actors(
                new CachedWorkloads<>(cluster.workloads(), owned),
                // Replica groups are created off the reconcile thread, their terms recorded first.
                new JobBinding<>(
                    binder,
                    (job, group) -> billing.withPlacementTerms(group, job.getSpec().placement),
                    pods::written,
                    job -> wakeups.wake(ResourceID.fromResource(job), "replicas")),
                crossChecks.checker(cluster.events())),
            Clock.systemUTC());
    return List.of(pods, services, wakeups.eventSource(context));
  }

  /** Wakes jobs short of replicas, and jobs with shards on any of {@code nodes}. */
  private void wake(String cause, Set<String> nodes) {
    wakeups.wakeWhere(
        cause,
        job -> {
          InferenceJobStatus s = job.getStatus();
          boolean short_ =
              s == null
                  || s.phase == null
                  || s.phase == InferenceJobPhase.Pending
                  || s.phase == InferenceJobPhase.Deploying
                  || s.phase == InferenceJobPhase.Degraded
                  || s.replicas == null
                  || s.desiredReplicas == null
                  || s.replicas.size() < s.desiredReplicas;
          boolean onNode =
              !nodes.isEmpty()
                  && s != null
                  && s.replicas != null
                  && s.replicas.stream()
                      .filter(r -> r.shards != null)
                      .flatMap(r -> r.shards.stream())
                      .anyMatch(sh -> nodes.contains(sh.node));
          return short_ || onNode;
        });
  }

  @Override
  public UpdateControl<InferenceJob> reconcile(InferenceJob job, Context<InferenceJob> context) {
    UpdateControl<InferenceJob> next = control.reconcile(scope, loop::reconcile, job, context);
    if (scope.manages(job.getMetadata().getNamespace()) && FrontService.wanted(job)) {
      front.reconcile(job, context);
    }
    return next;
  }

  @Override
  public DeleteControl cleanup(InferenceJob job, Context<InferenceJob> context) {
    return control.cleanup(
        scope, job, binder, List.of(job.getMetadata().getUid()), loop::releaseDeleted);
  }

  static String ref(InferenceJob job) {
    return JobLoop.ref(job);
  }
}
