package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.ProviderStakes;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.job.JobLoop;
import io.gpupool.operator.job.JobWakeups;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.InferenceAdmission;
import io.gpupool.operator.queue.InferenceWorkloads;
import io.gpupool.operator.scope.SelectedNamespaces;
import io.gpupool.operator.status.CachedStatus;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.workload.CachedWorkloads;
import io.gpupool.operator.workload.ClusterPods;
import io.gpupool.operator.workload.OwnedPodEvents;
import io.gpupool.operator.workload.OwnedPods;
import io.gpupool.operator.workload.Workloads;
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
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import org.jboss.logging.Logger;

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

  private static final Logger LOG = Logger.getLogger(InferenceJobReconciler.class);

  private final KubernetesClient client;
  private final EventRecorder events;
  private final InferencePlanner planner;
  private final NodeInventory inventory;
  private final GpupoolConfig config;
  private final JobMetrics metrics;
  private final LoadSignal load;
  private final BillingService billing;
  private final InferenceMetrics scaleMetrics;
  private final Workloads workloads;
  private final WeightsCacheBook weightsCache;
  private final ClusterPods clusterPods;
  private final CanaryClient canaries;
  private final FraudDisputes disputes;
  private final TrustLedger trust;
  private final CrossCheckMetrics crossCheckMetrics;
  private final JobWakeups<InferenceJob> wakeups;
  private final InferenceAdmission admission;
  private volatile InferenceLoop loop;

  public InferenceJobReconciler(
      KubernetesClient client,
      EventRecorder events,
      InferencePlanner planner,
      NodeInventory inventory,
      GpupoolConfig config,
      AllocationLedger ledger,
      ProviderDirectory providers,
      ProviderStakes stakes,
      JobMetrics metrics,
      LoadSignal load,
      BillingService billing,
      InferenceMetrics scaleMetrics,
      Workloads workloads,
      ClusterPods clusterPods,
      WeightsCacheBook weightsCache,
      CanaryClient canaries,
      FraudDisputes disputes,
      TrustLedger trust,
      CrossCheckMetrics crossCheckMetrics,
      AdmissionController queues,
      InferenceAdmission admission) {
    this.admission = admission;
    this.canaries = canaries;
    this.disputes = disputes;
    this.trust = trust;
    this.crossCheckMetrics = crossCheckMetrics;
    this.client = client;
    this.clusterPods = clusterPods;
    this.events = events;
    this.planner = planner;
    this.inventory = inventory;
    this.config = config;
    this.metrics = metrics;
    this.load = load;
    this.billing = billing;
    this.scaleMetrics = scaleMetrics;
    this.workloads = workloads;
    this.weightsCache = weightsCache;
    this.wakeups = new JobWakeups<>(KIND, "inferencejob-capacity", metrics);
    ledger.onRelease(() -> wake("release", null));
    inventory.onChange(node -> wake("node", node));
    providers.onChange(provider -> wake("provider", null));
    // A stake read from the chain changes what the stake gate lets placement use; nothing in the
    // cluster changes with it.
    stakes.onChange(provider -> wake("stake", null));
    // Admission wakes the jobs a decision round concerns: minimum or a replica admitted, evicted,
    // moved up its queue.
    queues.onWake(
        id ->
            InferenceWorkloads.jobOf(id)
                .ifPresent(
                    ref -> {
                      int slash = ref.indexOf('/');
                      wakeups.wake(
                          new ResourceID(ref.substring(slash + 1), ref.substring(0, slash)),
                          "admission");
                    }));
    // A job looked at before its queue existed runs, or waits, outside any queue.
    queues.onQueueAdded(
        queue ->
            wakeups.wakeWhere(
                "queue", job -> job.getStatus() == null || job.getStatus().queue == null));
    // Its namespace may have been bound to, or unbound from, its account.
    billing.onAccountsChange(() -> wakeups.wakeAll("account"));
    // The meter finds a new pod's job in the controller's cache, not with a GET.
    wakeups.whenRunning(jobs -> billing.readJobsFrom(KIND, jobs));
    // A metering may have taken a job to its spec.budget.maxCost.
    billing.afterMetering(
        () -> {
          InferenceLoop kind = loop;
          if (kind != null) {
            wakeups.wakeWhere("metering", kind::watchesCost);
          }
        });
    // A pod's end was metered: its job's usage changed, also when the job has finished already.
    billing.onPodEndMetered(
        job -> wakeups.wakeIfRunning(job.kind(), job.namespace(), job.name(), "pod_end_metered"));
  }

  @Override
  public List<EventSource<?, InferenceJob>> prepareEventSources(
      EventSourceContext<InferenceJob> context) {
    String selector = GpupoolApi.JOB_KIND_LABEL + "=" + KIND;
    OwnedPodEvents<InferenceJob> pods =
        new OwnedPodEvents<>(clusterPods, InferenceJob.class, "inferencejob-pods");
    InformerEventSource<Service, InferenceJob> services =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Service.class, InferenceJob.class)
                .withName("inferencejob-services")
                .withLabelSelector(selector)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(InferenceJob.class))
                .build(),
            context);
    OwnedPods<InferenceJob> owned = new OwnedPods<>(pods);
    this.loop =
        new InferenceLoop(
            planner,
            inventory,
            billing,
            new CachedWorkloads<>(workloads, owned),
            load,
            events,
            metrics,
            scaleMetrics,
            new InferenceLoop.Reads(owned::of, services::getSecondaryResources),
            config.nodes().lostGracePeriod(),
            config.inference().drainPeriod(),
            config.inference().loadPollInterval(),
            Clock.systemUTC(),
            weightsCache,
            new ModelCache.Settings(
                config.inference().weightsCache().root(),
                config.inference().weightsCache().fetcherImage(),
                config.inference().weightsCache().fetcherCommand()),
            new CrossChecker(
                canaries,
                disputes,
                trust::quarantineForWork,
                events,
                crossCheckMetrics,
                new SecureRandom()::nextLong),
            new QueuedReplicas(admission, events));
    return List.of(pods, services, wakeups.eventSource(context));
  }

  /** Wakes jobs short of replicas, and jobs with shards on {@code nodeName} (null: none). */
  private void wake(String cause, String nodeName) {
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
              nodeName != null
                  && s != null
                  && s.replicas != null
                  && s.replicas.stream()
                      .filter(r -> r.shards != null)
                      .flatMap(r -> r.shards.stream())
                      .anyMatch(sh -> nodeName.equals(sh.node));
          return short_ || onNode;
        });
  }

  @Override
  public UpdateControl<InferenceJob> reconcile(InferenceJob job, Context<InferenceJob> context) {
    if (!scope.manages(job.getMetadata().getNamespace())) {
      return UpdateControl.noUpdate(); // another install's (or no install's) namespace
    }
    wakeups.reconciling();
    JobLoop.Outcome outcome =
        loop.reconcile(job, j -> CachedStatus.write(client, InferenceJob.class, j, context));
    UpdateControl<InferenceJob> control = UpdateControl.noUpdate();
    return outcome.recheck() == null ? control : control.rescheduleAfter(outcome.recheck());
  }

  @Override
  public DeleteControl cleanup(InferenceJob job, Context<InferenceJob> context) {
    if (!scope.manages(job.getMetadata().getNamespace())) {
      return DeleteControl.noFinalizerRemoval(); // its own install cleans it up
    }
    workloads.deleteAll(job.getMetadata().getNamespace(), KIND, job.getMetadata().getName());
    loop.releaseDeleted(job);
    LOG.infof("%s deleted: pods removed, GPUs released", JobLoop.ref(job));
    return DeleteControl.defaultDelete();
  }

  static String ref(InferenceJob job) {
    return JobLoop.ref(job);
  }
}
