package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.Workloads;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/** A TrainingJob's gang of pods: read from the informer, started by the binder, removed whole. */
final class Gangs {

  private final JobBinding<TrainingJob> binding;
  private final Workloads workloads;
  private final Function<TrainingJob, Collection<Pod>> pods;
  private final BiConsumer<TrainingJob, List<Pod>> beforeDeleting;

  /**
   * @param binding creates gangs off the reconcile thread, their billing terms recorded first
   * @param pods the job's pods as the controller's informer holds them
   * @param beforeDeleting meters pods of the job and stores their usage before they are deleted
   *     ({@code BillingService.beforeDeleting}); throws when it cannot store it
   */
  Gangs(
      JobBinding<TrainingJob> binding,
      Workloads workloads,
      Function<TrainingJob, Collection<Pod>> pods,
      BiConsumer<TrainingJob, List<Pod>> beforeDeleting) {
    this.binding = binding;
    this.workloads = workloads;
    this.pods = pods;
    this.beforeDeleting = beforeDeleting;
  }

  /** The current generation's pods by rank (older generations are removed with the next gang). */
  Map<Integer, Pod> current(TrainingJob job) {
    String generation =
        Integer.toString(job.getStatus().restarts == null ? 0 : job.getStatus().restarts);
    Map<Integer, Pod> gang = new HashMap<>();
    for (Pod pod : pods.apply(job)) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      if (generation.equals(labels.get(TrainingGang.GENERATION_LABEL))
          && pod.getMetadata().getDeletionTimestamp() == null) {
        gang.put(Integer.parseInt(labels.get(TrainingGang.RANK_LABEL)), pod);
      }
    }
    return gang;
  }

  /**
   * True when rank {@code rank}'s pod of the current generation exists on the API server and is not
   * being deleted: missing from the operator's pod view, it is not gone.
   */
  boolean onServer(TrainingJob job, int rank) {
    int generation = job.getStatus().restarts == null ? 0 : job.getStatus().restarts;
    return workloads
        .podOnServer(job.getMetadata().getNamespace(), TrainingGang.podName(job, rank, generation))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .isPresent();
  }

  /**
   * Deletes every pod of the job that has not completed (its gangs, verifiers and referees), each
   * metered and its usage stored first. The job's status lists a gang only once the step that
   * placed it has written it: a leader that died before that left the gang unlisted, and the next
   * leader's first step may delete it (the job suspended meanwhile, or placed anew for want of a
   * placement), while the meter takes in no unlisted pod on its own. Stored before the delete, the
   * usage also survives a leader killed before it metered the pod's end. When it cannot be stored
   * this throws and nothing is deleted: the step fails and is retried.
   */
  void remove(TrainingJob job) {
    List<Pod> going =
        pods.apply(job).stream()
            .filter(
                p -> !"Succeeded".equals(p.getStatus() == null ? null : p.getStatus().getPhase()))
            .toList();
    beforeDeleting.accept(job, going);
    going.forEach(workloads::deletePod);
  }

  /**
   * Records {@code ranks} as the job's placement and hands the new gang generation (the restart
   * count) to the binder, which creates it whole off this thread. If it cannot, the binder deletes
   * what it created and the job, woken, finds no placement: the loop frees its GPUs. The gang loads
   * the latest checkpoint, or after a proven cheat a verified one ({@link #verifiedResume}).
   */
  void start(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      String resumeFrom) {
    start(s, ranks, resumeFrom, verifiedResume(s.status));
  }

  /**
   * The checkpoint step a new gang generation must load instead of the latest, or null (the
   * latest). After a proven cheat the caught gang's checkpoints past the last verified one are
   * still the latest until an honest gang overwrites them: a restart for any reason (a rank that
   * failed, a node lost) before then would resume from the cheat's work and the job would end on
   * it. So once a job has had a dispute, every generation resumes from the last verified checkpoint
   * (the rewind's step while one is pending), at the cost of replaying what was not verified yet.
   */
  static Long verifiedResume(TrainingJobStatus status) {
    TrainingVerificationStatus v = status.verification;
    if (v == null) {
      return null;
    }
    if (v.rewindTo != null) {
      return v.rewindTo;
    }
    if (v.disputes != null && v.disputes > 0) {
      return v.lastVerifiedCheckpoint == null ? 0L : v.lastVerifiedCheckpoint;
    }
    return null;
  }

  /** As {@link #start(JobStep, List, String)}, resuming from checkpoint {@code resumeStep}. */
  void start(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      String resumeFrom,
      Long resumeStep) {
    TrainingJob job = s.job;
    String strategy =
        s.status.plan != null && s.status.plan.strategy != null
            ? s.status.plan.strategy
            : "DataParallel";
    List<Pod> gang =
        TrainingGang.pods(
            job, ranks, strategy, s.status.restarts, s.status.restarts, resumeFrom, resumeStep);
    binding.bind(
        job,
        job.getMetadata().getUid(),
        "gang",
        List.of(TrainingGang.service(job)),
        gang,
        TrainingGang::sameRank);
    s.status.placements =
        Placements.toStatus(ranks, job.getMetadata().getName(), s.status.restarts);
  }
}
