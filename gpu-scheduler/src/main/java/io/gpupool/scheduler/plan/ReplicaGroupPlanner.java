package io.gpupool.scheduler.plan;

import static io.gpupool.scheduler.plan.Worker.GIB;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Inference replicas of a model too large for one worker: each replica is a group of shards,
 * tensor-parallel over whole GPUs of one node when a node can hold it, otherwise pipelined across
 * nodes (each node one stage, tensor-parallel over its free GPUs, layers split by the exact min-max
 * program). Replicas are spread across providers and regions; all replicas are placed or none.
 */
final class ReplicaGroupPlanner {
  private final SchedulerConfig config;
  private final CandidateFilter filter;
  private final PipelinePlanner pipeline;

  ReplicaGroupPlanner(SchedulerConfig config, CandidateFilter filter, PipelinePlanner pipeline) {
    this.config = config;
    this.filter = filter;
    this.pipeline = pipeline;
  }

  /** Bytes one inference replica needs: weights plus activations of one sample in flight. */
  static double replicaBytes(ModelSpec m) {
    return m.stateBytes(JobKind.INFERENCE)
        + m.layerActivationBytesPerSample(JobKind.INFERENCE) * m.layers();
  }

  /** Whether some node could hold a whole replica in one worker of the request. */
  boolean fitsOneWorker(JobRequest r, PoolSnapshot snap) {
    double need = replicaBytes(r.model());
    for (PoolNode n : snap.nodes()) {
      double have =
          r.gpusPerWorker()
              * n.gpuMemoryMib()
              * 1024.0
              * 1024
              * config.memoryHeadroom()
              * r.gpuMilli()
              / 1000.0;
      if (n.gpuCount() >= r.gpusPerWorker() && have >= need) {
        return true;
      }
    }
    return false;
  }

  PlanResult plan(JobRequest r, PoolSnapshot snap) {
    ModelSpec m = r.model();
    double need = replicaBytes(m);
    JobRequest whole =
        new JobRequest(
            r.id(),
            r.kind(),
            r.strategy(),
            1,
            1,
            1,
            1000,
            r.allowedProducts(),
            r.minGpuMemoryMib(),
            r.cpuMillisPerWorker(),
            r.memoryMibPerWorker(),
            r.allowedRegions(),
            r.maxPricePerGpuHour(),
            r.minReliability(),
            m,
            r.weights(),
            r.preferredNodes());
    PoolSnapshot work = snap;
    List<RankPlacement> ranks = new ArrayList<>();
    Map<String, Integer> spread = new HashMap<>();
    double throughput = 0;
    double price = 0;
    double step = 0;
    List<String> why = new ArrayList<>();
    for (int rep = 0; rep < r.workers(); rep++) {
      Census census = new Census();
      List<Candidate> cands = filter.list(whole, work, census, Set.of());
      List<Worker> stages = tensorParallelOnOneNode(r, work, cands, need, spread);
      if (stages == null) {
        stages = pipelineAcrossNodes(r, cands, need, spread);
        double have = 0;
        for (Worker w : stages) {
          have += w.memBytes();
        }
        if (have < need) {
          return new Unplaceable(
              r.id(),
              String.format(
                  Locale.ROOT,
                  "replica %d of %d needs %.1f GiB of GPU memory; the eligible free GPUs hold"
                      + " %.1f GiB",
                  rep + 1,
                  r.workers(),
                  need / GIB,
                  have / GIB),
              UnplaceableReason.withExclusions(
                  census, census.freeWorkers + " free GPUs on eligible nodes"));
        }
        stages.sort(
            Comparator.comparing((Worker w) -> w.node().region())
                .thenComparing(w -> w.node().zone()));
      }
      int s = stages.size();
      PipelineSplitter.Split split = pipeline.split(m, JobKind.INFERENCE, stages);
      if (split == null) {
        return new Unplaceable(
            r.id(), "replica " + (rep + 1) + ": no layer split fits the chosen GPUs", List.of());
      }
      List<Allocation> allocs = new ArrayList<>();
      for (int i = 0; i < s; i++) {
        Worker w = stages.get(i);
        ranks.add(w.rank(ranks.size(), rep, i, split.first()[i], split.last()[i], 1.0));
        allocs.add(
            new Allocation(
                r.id(),
                w.node().name(),
                w.gpus(),
                1000,
                r.cpuMillisPerWorker(),
                r.memoryMibPerWorker()));
        spread.merge("p" + w.node().provider(), 1, Integer::sum);
        spread.merge("r" + w.node().region(), 1, Integer::sum);
      }
      work = work.with(allocs);
      double latency = s * split.bottleneckSeconds();
      step = Math.max(step, latency);
      throughput += 1 / split.bottleneckSeconds();
      price += PlanObjective.price(stages);
      why.add(
          String.format(
              Locale.ROOT,
              "replica %d: %s over %d stage(s) on %s",
              rep,
              s == 1
                  ? "tensor parallel over " + stages.get(0).gpus().length + " GPU(s)"
                  : "pipeline",
              s,
              stages.stream().map(w -> w.node().name()).toList()));
    }
    List<String> all = new ArrayList<>();
    all.add(
        String.format(
            Locale.ROOT,
            "Sharded inference: each replica needs %.1f GiB, more than one worker of %d GPU(s) holds;"
                + " est. %.3g samples/s, %.2f/h.",
            need / GIB,
            r.gpusPerWorker(),
            throughput,
            price));
    all.addAll(why);
    Map<String, Double> score = new LinkedHashMap<>();
    score.put("pricePerHour", price);
    return new Plan(
        r.id(),
        Strategy.PIPELINE_PARALLEL,
        ranks,
        step,
        throughput,
        price,
        score,
        all,
        List.of("single-worker replicas: model does not fit " + r.gpusPerWorker() + " GPU(s)"),
        r);
  }

  /** The cheapest, least crowded node that holds the replica on its free whole GPUs, or null. */
  private List<Worker> tensorParallelOnOneNode(
      JobRequest r,
      PoolSnapshot snap,
      List<Candidate> cands,
      double need,
      Map<String, Integer> spread) {
    Candidate bestNode = null;
    int bestGpus = 0;
    double bestKey = Double.POSITIVE_INFINITY;
    for (Candidate c : cands) {
      PoolNode n = c.state.node();
      double perGpu = n.gpuMemoryMib() * 1024.0 * 1024 * config.memoryHeadroom();
      int g = (int) Math.ceil(need / perGpu);
      if (g <= c.state.wholeFree()
          && c.state.cpuFree() >= r.cpuMillisPerWorker()
          && c.state.memoryFree() >= r.memoryMibPerWorker()) {
        // The price part of the key counts per GPU taken; the preferred weight's part per node.
        double bonus = PreferredNodes.KEY_STEP * PreferredNodes.weight(r, snap, n);
        double key = (c.key + bonus) * g - bonus + config.spreadWeight() * spreadOf(spread, n);
        if (key < bestKey) {
          bestKey = key;
          bestNode = c;
          bestGpus = g;
        }
      }
    }
    if (bestNode == null) {
      return null;
    }
    int[] gpus = bestNode.state.pick(bestGpus, 1000, 0, 0);
    List<Worker> stages = new ArrayList<>();
    stages.add(Worker.of(bestNode.state.node(), bestNode.spec, gpus, 1000, config));
    return stages;
  }

  /**
   * Stages across nodes, cheapest (and least crowded) first, each taking up to 8 free whole GPUs,
   * until they hold the replica with 5 % to spare (or there is one stage per layer).
   */
  private List<Worker> pipelineAcrossNodes(
      JobRequest r, List<Candidate> cands, double need, Map<String, Integer> spread) {
    List<Candidate> order = new ArrayList<>(cands);
    order.sort(
        Comparator.comparingDouble(
            c -> c.key + config.spreadWeight() * spreadOf(spread, c.state.node())));
    List<Worker> stages = new ArrayList<>();
    double have = 0;
    for (Candidate c : order) {
      if (have >= need * 1.05 || stages.size() >= r.model().layers()) {
        break;
      }
      int free = Math.min(8, c.state.wholeFree());
      if (free == 0
          || c.state.cpuFree() < r.cpuMillisPerWorker()
          || c.state.memoryFree() < r.memoryMibPerWorker()) {
        continue;
      }
      Worker w = Worker.of(c.state.node(), c.spec, c.state.pick(free, 1000, 0, 0), 1000, config);
      stages.add(w);
      have += w.memBytes();
    }
    return stages;
  }

  private static int spreadOf(Map<String, Integer> spread, PoolNode n) {
    return spread.getOrDefault("p" + n.provider(), 0) + spread.getOrDefault("r" + n.region(), 0);
  }
}
