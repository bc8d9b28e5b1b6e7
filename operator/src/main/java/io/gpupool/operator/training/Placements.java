package io.gpupool.operator.training;

import io.gpupool.api.v1alpha1.RankPlacement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Converts between rank assignments and their form in TrainingJob status. */
final class Placements {
  private Placements() {}

  static List<RankPlacement> toStatus(List<RankAssignment> ranks, String jobName, int generation) {
    List<RankPlacement> out = new ArrayList<>(ranks.size());
    for (RankAssignment r : ranks) {
      RankPlacement p = new RankPlacement();
      p.rank = r.rank();
      p.node = r.node();
      p.provider = r.provider();
      p.region = r.region();
      p.gpuModel = r.gpuProduct();
      p.gpus = r.gpus();
      p.gpuResource = r.gpuResource();
      if (r.stage() >= 0) {
        p.stage = r.stage();
        p.firstLayer = r.firstLayer();
        p.lastLayer = r.lastLayer();
      }
      p.batchShare = String.format(Locale.ROOT, "%.4f", r.batchShare());
      p.pod = jobName + "-worker-" + r.rank() + (generation == 0 ? "" : "-r" + generation);
      out.add(p);
    }
    return out;
  }

  static List<RankAssignment> fromStatus(List<RankPlacement> placements) {
    List<RankAssignment> out = new ArrayList<>();
    if (placements == null) {
      return out;
    }
    for (RankPlacement p : placements) {
      out.add(
          new RankAssignment(
              p.rank,
              p.node,
              p.provider,
              p.region,
              p.gpuModel,
              p.gpus == null ? 1 : p.gpus,
              p.gpuResource == null ? "nvidia.com/gpu" : p.gpuResource,
              p.stage == null ? -1 : p.stage,
              p.firstLayer == null ? -1 : p.firstLayer,
              p.lastLayer == null ? -1 : p.lastLayer,
              p.batchShare == null ? 0 : Double.parseDouble(p.batchShare)));
    }
    return out;
  }
}
