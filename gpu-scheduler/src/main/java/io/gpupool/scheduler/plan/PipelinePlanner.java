package io.gpupool.scheduler.plan;

import static io.gpupool.scheduler.plan.Worker.GIB;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pipeline parallel: each worker is one stage holding a contiguous run of layers. For a given stage
 * order the split is the exact min-max program of {@link PipelineSplitter}; the order is searched
 * over a few candidates (as given, fastest first, by place, most memory first).
 */
final class PipelinePlanner {
  private final SchedulerConfig config;
  private final PlanObjective objective;

  PipelinePlanner(SchedulerConfig config, PlanObjective objective) {
    this.config = config;
    this.objective = objective;
  }

  /** The best split over the candidate stage orders. */
  EvaluatedPlan plan(JobRequest r, List<Worker> ws, String group) {
    EvaluatedPlan best = null;
    for (List<Worker> order : candidateOrders(ws)) {
      EvaluatedPlan e = planInOrder(r, order, group);
      if (best == null || e.beats(best)) {
        best = e;
      }
    }
    return best;
  }

  /**
   * Upper bound of the objective any pipeline split over these workers can reach: stage time no
   * shorter than max(total FLOPs / Σ rates, one layer / fastest rate).
   */
  double boundValue(JobRequest r, List<Worker> ws) {
    ModelSpec m = r.model();
    double sum = 0;
    double max = 0;
    for (Worker w : ws) {
      sum += w.rate();
      max = Math.max(max, w.rate());
    }
    double perLayer = m.layerFlopsPerSample(r.kind());
    double stage = Math.max(perLayer * m.layers() / sum, perLayer / max);
    double step = (m.batch() + ws.size() - 1) * stage;
    return objective.value(m.batch() / step, ws, PlanObjective.price(ws), r.kind());
  }

  /**
   * The exact min-max layer split over {@code stages} in this order, or null when no split fits
   * memory. Training keeps up to (stages − i) micro-batches of activations in flight on stage i
   * (1F1B) and sends activations forward and gradients back.
   */
  PipelineSplitter.Split split(ModelSpec m, JobKind kind, List<Worker> stages) {
    int s = stages.size();
    int layers = m.layers();
    boolean training = kind == JobKind.TRAINING;
    double[] flops = new double[layers];
    double[] state = new double[layers];
    double[] act = new double[layers];
    Arrays.fill(flops, m.layerFlopsPerSample(kind));
    Arrays.fill(state, m.layerStateBytes(kind));
    Arrays.fill(act, m.layerActivationBytesPerSample(kind));
    double[] rate = new double[s];
    double[] mem = new double[s];
    double[] inFlight = new double[s];
    double[] transfer = new double[s];
    for (int i = 0; i < s; i++) {
      rate[i] = stages.get(i).rate();
      mem[i] = stages.get(i).memBytes();
      inFlight[i] = training ? s - i : 1;
      if (i + 1 < s) {
        transfer[i] =
            config
                    .links()
                    .between(stages.get(i).node(), stages.get(i + 1).node())
                    .transferSeconds(m.boundaryActivationBytesPerSample())
                * (training ? 2 : 1);
      }
    }
    return PipelineSplitter.split(flops, state, act, rate, mem, inFlight, transfer);
  }

  EvaluatedPlan planInOrder(JobRequest r, List<Worker> ws, String group) {
    ModelSpec m = r.model();
    int s = ws.size();
    int layers = m.layers();
    if (s > layers) {
      EvaluatedPlan e =
          EvaluatedPlan.infeasible(
              r, group, Strategy.PIPELINE_PARALLEL, s + " stages for " + layers + " layers");
      e.workers = ws;
      return e;
    }
    PipelineSplitter.Split split = split(m, r.kind(), ws);
    if (split == null) {
      double have = 0;
      for (Worker w : ws) {
        have += w.memBytes();
      }
      EvaluatedPlan e =
          EvaluatedPlan.infeasible(
              r,
              group,
              Strategy.PIPELINE_PARALLEL,
              String.format(
                  Locale.ROOT,
                  "pipeline: no split of %d layers fits (model state %.1f GiB, stages hold %.1f"
                      + " GiB)",
                  layers,
                  m.stateBytes(r.kind()) / GIB,
                  have / GIB));
      e.workers = ws;
      return e;
    }
    EvaluatedPlan e = new EvaluatedPlan(r, group, Strategy.PIPELINE_PARALLEL);
    e.workers = ws;
    e.split = split;
    int microbatches = m.batch();
    e.step = (microbatches + s - 1) * split.bottleneckSeconds();
    e.throughput = m.batch() / e.step;
    e.price = PlanObjective.price(ws);
    e.value = objective.value(e.throughput, ws, e.price, r.kind());
    List<RankPlacement> ranks = new ArrayList<>();
    for (int i = 0; i < s; i++) {
      ranks.add(ws.get(i).rank(i, 0, i, split.first()[i], split.last()[i], 1.0));
    }
    Map<String, Double> score = PlanObjective.scoreOf(ws, e.price, e.value);
    score.put("bottleneckStageSeconds", split.bottleneckSeconds());
    e.plan =
        new Plan(
            r.id(),
            e.strategy,
            ranks,
            e.step,
            e.throughput,
            e.price,
            score,
            List.of(),
            List.of(),
            r);
    return e;
  }

  private static List<List<Worker>> candidateOrders(List<Worker> ws) {
    List<List<Worker>> orders = new ArrayList<>();
    orders.add(ws);
    List<Worker> byRate = new ArrayList<>(ws);
    byRate.sort(Comparator.comparingDouble(w -> -w.rate()));
    orders.add(byRate);
    List<Worker> byPlace = new ArrayList<>(ws);
    byPlace.sort(
        Comparator.comparing((Worker w) -> w.node().region())
            .thenComparing(w -> w.node().zone())
            .thenComparing(w -> w.node().name())
            .thenComparingDouble(w -> -w.rate()));
    orders.add(byPlace);
    List<Worker> byMem = new ArrayList<>(ws);
    byMem.sort(Comparator.comparingDouble(w -> -w.memBytes()));
    orders.add(byMem);
    return orders;
  }
}
