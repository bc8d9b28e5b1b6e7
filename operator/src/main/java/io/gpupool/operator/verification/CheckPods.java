package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.OwnedObjects;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.operator.workload.JobBinding;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The pods of a job's checks: a verifier or referee placed on a node of a provider outside the
 * gang, listed in {@code status.verification.pods} first and created by the next step (the meter
 * bills only pods the job's status names), under a name unique per interval, attempt and rewind.
 */
final class CheckPods {
  private static final Logger LOG = Logger.getLogger(CheckPods.class);

  static final String VERIFIER = "verifier";
  static final String REFEREE = "referee";

  /** How soon a check placed (and listed in status) is looked at again to create its pod. */
  static final Duration CREATE_SOON = Duration.ofMillis(200);

  /** How soon a check that found no node for its pod tries again. */
  static final Duration NO_NODE_RECHECK = Duration.ofSeconds(5);

  private final CheckPlacer placer;
  private final EventRecorder events;
  private final JobBinding<TrainingJob> binding;

  CheckPods(CheckPlacer placer, EventRecorder events, JobBinding<TrainingJob> binding) {
    this.placer = placer;
    this.events = events;
    this.binding = binding;
  }

  static int attempts(TrainingVerificationStatus v, String role, long from, long to) {
    return (int) v.pods.stream().filter(p -> matches(v, p, role, from, to)).count();
  }

  /** A pod of this role for this interval since the last rewind (a proven cheat). */
  static boolean matches(
      TrainingVerificationStatus v, VerificationPod p, String role, long from, long to) {
    return role.equals(p.role)
        && p.fromStep == from
        && p.toStep == to
        && (p.epoch == null ? 0 : p.epoch) == v.disputes;
  }

  /** The providers of the gang: a check never runs on them. */
  static Set<String> providers(List<SpotCheckRunner.Trainer> trainers) {
    return trainers.stream()
        .map(SpotCheckRunner.Trainer::provider)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Places and creates a verification pod; empty (and a condition saying why) when none fits. */
  Optional<VerificationPod> place(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      Set<String> barred,
      String role,
      long from,
      long to,
      Long step,
      Integer rank,
      String what) {
    TrainingJob job = s.job;
    // The check reads the job's checkpoints and data: it stays in the regions the job may use.
    Set<String> regions =
        job.getSpec().placement == null || job.getSpec().placement.regions == null
            ? Set.of()
            : Set.copyOf(job.getSpec().placement.regions);
    CheckPlacer.Choice choice = placer.place(SpotCheckRunner.holder(job), barred, regions);
    if (choice.node().isEmpty()) {
      String message =
          String.format(
              Locale.ROOT, "interval %d..%d waits for a %s: %s", from, to, role, choice.reason());
      s.condition(VerifiedCondition.TYPE, false, "NoVerifierNode", message);
      s.recheckIn(NO_NODE_RECHECK);
      return Optional.empty();
    }
    CheckPlacer.Node node = choice.node().get();
    int attempt = attempts(v, role, from, to) + 1;
    VerificationPod entry = new VerificationPod();
    // Names stay unique: a rewind checks an interval again, a failed pod is tried again.
    entry.pod =
        job.getMetadata().getName()
            + (REFEREE.equals(role)
                ? "-referee-" + step + "-r" + rank
                : "-verify-" + from + "-" + to)
            + (v.disputes > 0 ? "-e" + v.disputes : "")
            + (attempt > 1 ? "-a" + attempt : "");
    entry.node = node.name();
    entry.provider = node.provider();
    entry.role = role;
    entry.fromStep = from;
    entry.toStep = to;
    entry.step = step;
    entry.rank = rank;
    entry.epoch = v.disputes;
    entry.created = false;
    // Listed in status first and created by the next step: the meter bills only pods the job's
    // status names, and a pod it saw end before that would never be billed.
    v.pods.add(entry);
    String message =
        String.format(
            Locale.ROOT,
            "%s on %s (%s, provider %s): %s %d..%d%s",
            role,
            node.name(),
            node.gpuProduct(),
            node.provider(),
            what,
            from,
            to,
            step == null ? "" : ", step " + step + " of rank " + rank);
    events.record(job, EventRecorder.NORMAL, "SpotCheckStarted", message);
    s.recheckIn(CREATE_SOON);
    return Optional.of(entry);
  }

  /**
   * Creates the pod of a check that status lists (the step after it was placed), off the reconcile
   * thread and after its billing terms were recorded, as a gang's; {@link #creating} follows it.
   */
  void create(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      VerificationPod entry,
      List<String> script) {
    TrainingJob job = s.job;
    Pod pod =
        REFEREE.equals(entry.role)
            ? VerifierPods.referee(
                job, script, entry.node, entry.fromStep, entry.toStep, entry.step, entry.rank)
            : VerifierPods.verifier(job, script, entry.node, entry.fromStep, entry.toStep);
    pod.getMetadata().setName(entry.pod);
    Map<String, String> labels = new HashMap<>(pod.getMetadata().getLabels());
    labels.put(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName());
    labels.put(GpupoolApi.JOB_KIND_LABEL, "TrainingJob");
    labels.put(GpupoolApi.PROVIDER_LABEL, entry.provider);
    pod.getMetadata().setLabels(labels);
    pod.getMetadata().setOwnerReferences(List.of(OwnedObjects.controllerReference(job)));
    entry.created = true;
    // The name is unique per interval, attempt and rewind: a pod under it is this check's own,
    // created by an earlier step whose status write was lost; it is followed, not replaced.
    binding.bind(
        job,
        SpotCheckRunner.bindingKey(job),
        entry.role + " pod " + entry.pod,
        List.of(),
        List.of(pod),
        (wanted, existing) -> true);
  }

  /**
   * True while the check's pod is being created (the job is woken when that ends), or when its
   * creation has just failed: the check then gives its GPU back and is tried again.
   */
  boolean creating(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, VerificationPod entry) {
    TrainingJob job = s.job;
    String key = SpotCheckRunner.bindingKey(job);
    if (binding.binder().busy(key)) {
      return true;
    }
    Optional<String> failed = binding.binder().takeFailure(key);
    if (failed.isEmpty()) {
      return false;
    }
    entry.outcome = "not_created";
    placer.release(SpotCheckRunner.holder(job));
    LOG.warnf("%s: %s", s.ref(), failed.get());
    s.recheckIn(NO_NODE_RECHECK);
    return true;
  }
}
