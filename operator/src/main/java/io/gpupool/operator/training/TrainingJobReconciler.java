package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.job.CapacityEvents;
import io.gpupool.operator.job.JobCluster;
import io.gpupool.operator.job.JobControl;
import io.gpupool.operator.job.JobWakeups;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.InferenceWorkloads;
import io.gpupool.operator.scope.SelectedNamespaces;
import io.gpupool.operator.verification.SpotCheckRunner;
import io.gpupool.operator.workload.GroupBinder;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.OwnedPodEvents;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.Set;

/**
 * Drives a TrainingJob through the shared job loop ({@link TrainingLoop}): validate, place the
 * whole gang, follow it, restart it from its checkpoint when a rank fails or a node is lost, and
 * free its GPUs when it ends. This class is the JOSDK side: event sources, wake-ups, deletion.
 *
 * <p>Pending jobs are woken by capacity events (a node joins or recovers, a job frees GPUs), never
 * by polling.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME)
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
  /** The selector scope: jobs of namespaces it does not select are left alone. */
  @Inject SelectedNamespaces scope;

  public static final String NAME = "trainingjob";

  private final TrainingLoop loop;
  private final GroupBinder binder;
  private final JobCluster cluster;
  private final JobWakeups<TrainingJob> wakeups;
  private final JobControl<TrainingJobStatus, TrainingJob> control;
  private final AdmissionController admission;
  private volatile OwnedPodEvents<TrainingJob> pods;

  /**
   * Read as the job's loop: what it observes (the cluster's pods, capacity changes, the health of a
   * gang's nodes), what decides (the planner, the queues' admission, billing's funding gate), and
   * what acts (the binder that creates gangs, the spot checks of the trust layer).
   */
  public TrainingJobReconciler(
      JobCluster cluster,
      CapacityEvents capacity,
      GangHealth health,
      TrainingPlanner planner,
      AdmissionController admission,
      BillingService billing,
      GroupBinder binder,
      SpotChecks spotChecks) {
    this.cluster = cluster;
    this.admission = admission;
    this.binder = binder;
    this.wakeups = new JobWakeups<>(TrainingLoop.KIND, "trainingjob-capacity", cluster.metrics());
    this.control =
        new JobControl<>(
            TrainingJob.class, TrainingLoop.KIND, cluster, wakeups, billing::beforeDeleting);
    // Gangs and spot-check pods are created off the reconcile thread, their terms recorded first.
    JobBinding<TrainingJob> binding =
        new JobBinding<>(
            binder,
            (job, pods) -> billing.withPlacementTerms(pods, job.getSpec().placement),
            this::created,
            job -> wakeups.wake(ResourceID.fromResource(job), "gang"));
    this.loop =
        new TrainingLoop(
            cluster,
            health,
            new TrainingLoop.PodReads(this::podsOf),
            new TrainingLoop.Deciders(planner, admission, billing),
            new TrainingLoop.Actors(binding, spotChecks.runner(binding)),
            Clock.systemUTC());
    // Admission wakes the jobs a decision round concerns (admitted, evicted, moved up a queue).
    admission.onWake(
        id -> {
          if (InferenceWorkloads.isInference(id)) {
            return; // an InferenceJob's workload: its own controller is woken
          }
          wakeups.wake(id, "admission");
        });
    capacity.onChange(this::wakePending);
    // A job looked at before its queue existed was placed, or is waiting, outside any queue.
    admission.onQueueAdded(
        queue -> wakeups.wakeWhere("queue", job -> outsideQueues(job.getStatus())));
    wakeups.followBilling(billing, loop::watchesCost);
  }

  @Override
  public List<EventSource<?, TrainingJob>> prepareEventSources(
      EventSourceContext<TrainingJob> context) {
    this.pods = new OwnedPodEvents<>(cluster.pods(), TrainingJob.class, "trainingjob-pods");
    return List.of(pods, wakeups.eventSource(context));
  }

  private Set<Pod> podsOf(TrainingJob job) {
    var source = pods;
    return source == null ? Set.of() : source.getSecondaryResources(job);
  }

  /** A pod the binder created: the job's pod reads show it before the watch delivers it. */
  private void created(Pod pod) {
    var source = pods;
    if (source != null) {
      source.written(pod);
    }
  }

  /** Wakes jobs waiting for capacity, and jobs with ranks on any of {@code nodes}. */
  private void wakePending(String cause, Set<String> nodes) {
    wakeups.wakeWhere(
        cause,
        job -> {
          TrainingJobStatus s = job.getStatus();
          boolean waiting = wantsCapacity(s, waitsForQuota(s) && admission.holdsQuota(job));
          boolean onNode =
              !nodes.isEmpty()
                  && s != null
                  && s.placements != null
                  && s.placements.stream().anyMatch(p -> nodes.contains(p.node));
          return waiting || onNode;
        });
  }

  /** Not finished and no GpuQueue applied to it when it was last looked at. */
  private static boolean outsideQueues(TrainingJobStatus s) {
    return s == null
        || s.queue == null
            && s.phase != TrainingJobPhase.Succeeded
            && s.phase != TrainingJobPhase.Failed;
  }

  /**
   * A Pending job that capacity coming back may let be placed: one outside queues, or one its queue
   * has admitted. Whether it is admitted is asked of admission ({@code admittedNow}), not read from
   * the cached status: a preemptor admitted the moment its victim left, then found the victim's
   * pods still on the GPUs, may not have its admission in the cache yet when those pods vanish, and
   * skipping it left it waiting out the whole placement timeout (QueueE2E, on a quiet machine).
   */
  static boolean wantsCapacity(TrainingJobStatus s, boolean admittedNow) {
    boolean pending = s == null || s.phase == null || s.phase == TrainingJobPhase.Pending;
    return pending && (!waitsForQuota(s) || admittedNow);
  }

  /** Queued in a GpuQueue: capacity does not help it, admission wakes it when its turn comes. */
  private static boolean waitsForQuota(TrainingJobStatus s) {
    return s != null && s.queue != null && s.queue.flavor == null;
  }

  @Override
  public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
    return control.reconcile(scope, loop::reconcile, job, context);
  }

  @Override
  public DeleteControl cleanup(TrainingJob job, Context<TrainingJob> context) {
    // Its gang and its spot-check pods are created under keys of their own.
    List<String> bindings = List.of(job.getMetadata().getUid(), SpotCheckRunner.bindingKey(job));
    return control.cleanup(scope, job, binder, bindings, loop::releaseDeleted);
  }
}
