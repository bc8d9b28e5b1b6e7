package io.gpupool.operator.training;

import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.allocation.GangClaims;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.queue.AdmissionSnapshot;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPUs each placed TrainingJob's status assigns its ranks, read from the API server (the same
 * one LIST per kind admission starts with) when a new leader rebuilds its allocation ledger.
 */
@ApplicationScoped
public class TrainingGangClaims implements GangClaims {
  private final AdmissionSnapshot cluster;

  public TrainingGangClaims(AdmissionSnapshot cluster) {
    this.cluster = cluster;
  }

  @Override
  public Map<String, Map<String, Integer>> claims() {
    return of(cluster.read().trainingJobs());
  }

  /** Per job, the slots its status placements take on each node; ended and suspended jobs none. */
  static Map<String, Map<String, Integer>> of(List<TrainingJob> jobs) {
    Map<String, Map<String, Integer>> out = new HashMap<>();
    for (TrainingJob job : jobs) {
      Map<String, Integer> slots = slots(job.getStatus());
      if (!slots.isEmpty()) {
        out.put(
            PodGpus.holderKey(
                TrainingLoop.KIND, job.getMetadata().getNamespace(), job.getMetadata().getName()),
            slots);
      }
    }
    return out;
  }

  /** What a status's placements take, by node: nothing once the job ended or was suspended. */
  static Map<String, Integer> slots(TrainingJobStatus status) {
    if (status == null
        || status.phase == TrainingJobPhase.Succeeded
        || status.phase == TrainingJobPhase.Failed
        || status.phase == TrainingJobPhase.Suspended) {
      return Map.of();
    }
    Map<String, Integer> slots = new HashMap<>();
    for (RankAssignment r : Placements.fromStatus(status.placements)) {
      if (r.node() != null) {
        slots.merge(r.node(), r.gpus(), Integer::sum);
      }
    }
    return slots;
  }
}
