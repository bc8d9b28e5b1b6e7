package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.workload.JobBinding;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Places new replica groups of an InferenceJob: plans and reserves them, passes the budget gate,
 * and hands each group to the {@link JobBinding}, which records its billing terms and creates it
 * whole off the reconcile thread.
 */
final class ReplicaPlacer {
  private static final Logger LOG = Logger.getLogger(ReplicaPlacer.class);

  private final InferencePlanner planner;
  private final InferenceBudget budget;
  private final JobBinding<InferenceJob> binding;
  private final EventRecorder events;
  private final JobMetrics metrics;
  private final ModelCache.Settings cacheSettings;

  ReplicaPlacer(
      InferencePlanner planner,
      InferenceBudget budget,
      JobBinding<InferenceJob> binding,
      EventRecorder events,
      JobMetrics metrics,
      ModelCache.Settings cacheSettings) {
    this.planner = planner;
    this.budget = budget;
    this.binding = binding;
    this.events = events;
    this.metrics = metrics;
    this.cacheSettings = cacheSettings;
  }

  /**
   * Places {@code count} new replica groups and hands them to the binder; each is created whole or
   * not at all, and a failure is taken up by the job's next step.
   *
   * @param gpuLimit GPUs its queue counts per replica: a plan needing more for one group is refused
   *     (0: not queued, no limit)
   */
  boolean place(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      List<ReplicaGroup> active,
      List<ReplicaGroup> draining,
      Map<String, Integer> held,
      int count,
      int gpuLimit) {
    InferenceJob job = s.job;
    Set<Integer> used = new HashSet<>();
    active.forEach(g -> used.add(g.replica()));
    draining.forEach(g -> used.add(g.replica()));
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; indices.size() < count; i++) {
      if (!used.contains(i)) {
        indices.add(i);
      }
    }
    Set<String> providers =
        active.stream()
            .flatMap(g -> g.pods().stream())
            .map(p -> p.getMetadata().getLabels().get(GpupoolApi.PROVIDER_LABEL))
            .filter(Objects::nonNull)
            .collect(Collectors.toSet());
    InferencePlanner.Placement placement = planner.add(job, held, providers, indices);
    if (placement instanceof InferencePlanner.Unplaceable u) {
      String message =
          (active.isEmpty() ? "" : "serving " + active.size() + "; ")
              + count
              + " more replica(s) unschedulable: "
              + u.reason();
      if (s.condition(JobConditions.SCHEDULED, false, "Unschedulable", message)) {
        events.record(job, EventRecorder.WARNING, "Unschedulable", message);
      }
      return false;
    }
    InferencePlanner.Placed placed = (InferencePlanner.Placed) placement;
    if (gpuLimit > 0 && overQuotaShape(s, placed, gpuLimit)) {
      planner.hold(job, held);
      return false;
    }
    List<ReplicaGroup> serving = new ArrayList<>(active);
    serving.addAll(draining);
    if (!budget.admit(s, serving, !active.isEmpty(), placed)) {
      planner.hold(job, held); // the refused groups give their GPUs back
      return false;
    }
    String hash = InferenceGroup.specHash(job.getSpec());
    for (var e : placed.groups().entrySet()) {
      List<ShardAssignment> shards = e.getValue();
      String group = UUID.randomUUID().toString().substring(0, 5);
      int replica = e.getKey();
      // A group's pods are named afresh for each placement: a pod already under a name is not its.
      binding.bind(
          job,
          job.getMetadata().getUid(),
          "replica " + replica,
          List.of(InferenceGroup.groupService(job, replica, group)),
          InferenceGroup.pods(job, shards, group, hash, cacheSettings),
          (wanted, existing) -> false);
      String message = "replica " + e.getKey() + ": " + describe(shards);
      events.record(job, EventRecorder.NORMAL, "Scheduled", message);
      LOG.infof("%s %s", s.ref(), message);
    }
    if ((s.status.replicas == null || s.status.replicas.isEmpty())
        && job.getMetadata().getCreationTimestamp() != null
        && (s.previousPhase == null || s.previousPhase == InferenceJobPhase.Pending)) {
      metrics.queueWait(
          InferenceGroup.KIND,
          Duration.between(Instant.parse(job.getMetadata().getCreationTimestamp()), s.now));
    }
    s.condition(JobConditions.SCHEDULED, true, "Placed", placed.reason());
    return true;
  }

  /**
   * True (and said in status) when a planned group takes more GPUs than its queue counted for it:
   * placing it would run the queue over its quota. A GPU share counts as one GPU.
   */
  private boolean overQuotaShape(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      InferencePlanner.Placed placed,
      int gpuLimit) {
    for (var e : placed.groups().entrySet()) {
      int gpus = e.getValue().stream().mapToInt(sh -> sh.gpuMilli() < 1000 ? 1 : sh.gpus()).sum();
      if (gpus > gpuLimit) {
        String message =
            "replica "
                + e.getKey()
                + " needs "
                + gpus
                + " GPUs on the nodes free now ("
                + describe(e.getValue())
                + "); its GpuQueue counts spec.gpusPerReplica="
                + gpuLimit
                + " per replica: raise it to place the job";
        if (s.condition(JobConditions.SCHEDULED, false, "ReplicaOverQuota", message)) {
          events.record(s.job, EventRecorder.WARNING, "ReplicaOverQuota", message);
        }
        return true;
      }
    }
    return false;
  }

  static String describe(List<ShardAssignment> shards) {
    return shards.size()
        + " shard(s) on "
        + shards.stream()
            .map(
                sh ->
                    sh.node()
                        + "("
                        + (sh.gpuMilli() < 1000
                            ? sh.gpuMilli() + "m of 1"
                            : Integer.toString(sh.gpus()))
                        + "x"
                        + sh.gpuProduct()
                        + (sh.groupSize() > 1
                            ? ", layers " + sh.firstLayer() + "-" + sh.lastLayer()
                            : "")
                        + ")")
            .collect(Collectors.joining(", "));
  }
}
