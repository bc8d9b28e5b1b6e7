package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A placement of every rank of a job, with its estimated performance and why it was chosen.
 *
 * @param strategy the strategy chosen (never AUTO)
 * @param stepSeconds estimated time of one training step (or one batch for inference)
 * @param samplesPerSecond estimated throughput
 * @param pricePerHour sum of the price of the GPUs (fractions pro rata)
 * @param score score breakdown (lower cost/penalties better, see docs/scheduling.md)
 * @param why why this plan was chosen
 * @param rejected alternatives considered and why they lost
 * @param request the request this plan serves (kept for repair)
 */
public record Plan(
    String jobId,
    Strategy strategy,
    List<RankPlacement> ranks,
    double stepSeconds,
    double samplesPerSecond,
    double pricePerHour,
    Map<String, Double> score,
    List<String> why,
    List<String> rejected,
    JobRequest request)
    implements PlanResult {

  public Plan {
    ranks = List.copyOf(ranks);
    score = Map.copyOf(score);
    why = List.copyOf(why);
    rejected = List.copyOf(rejected);
  }

  /** The allocations to record in the snapshot once the plan is carried out. */
  public List<Allocation> allocations() {
    List<Allocation> out = new ArrayList<>();
    for (RankPlacement r : ranks) {
      out.add(
          new Allocation(
              jobId,
              r.node(),
              r.gpuIndices(),
              r.milliPerGpu(),
              request.cpuMillisPerWorker(),
              request.memoryMibPerWorker()));
    }
    return out;
  }

  /** Number of pipeline stages (1 for data parallel). */
  public int stages() {
    return ranks.stream().mapToInt(RankPlacement::stage).max().orElse(0) + 1;
  }

  /** One paragraph for status and events. */
  public String explanation() {
    return String.join(" ", why)
        + (rejected.isEmpty() ? "" : " Rejected: " + String.join("; ", rejected) + ".");
  }
}
