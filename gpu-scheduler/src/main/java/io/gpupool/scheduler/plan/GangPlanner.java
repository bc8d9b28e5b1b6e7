package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Places a gang (all workers or at least minWorkers, never part of one worker): one scan of the
 * pool keeps the cheapest nodes of each locality group, the few kept are re-ranked with
 * fragmentation growth, a worker set is drawn from each group, and the strategies the request
 * allows are evaluated on each set; the best goodput per price wins and the others are reported as
 * rejected.
 */
final class GangPlanner {
  /** Pipeline searches per request, most promising groups first. */
  private static final int MAX_PIPELINE_GROUPS = 3;

  private final SchedulerConfig config;
  private final PoolIndex index;
  private final CandidateFilter filter;
  private final FragmentationGrowth fragmentation;
  private final DataParallelPlanner dataParallel;
  private final PipelinePlanner pipeline;

  GangPlanner(
      SchedulerConfig config,
      PoolIndex index,
      CandidateFilter filter,
      FragmentationGrowth fragmentation,
      DataParallelPlanner dataParallel,
      PipelinePlanner pipeline) {
    this.config = config;
    this.index = index;
    this.filter = filter;
    this.fragmentation = fragmentation;
    this.dataParallel = dataParallel;
    this.pipeline = pipeline;
  }

  /**
   * Plans {@code r} on {@code snap} keeping the {@code fixed} workers (survivors of a repair) and
   * never using the {@code exclude}d nodes.
   */
  PlanResult plan(JobRequest r, PoolSnapshot snap, Set<String> exclude, List<Worker> fixed) {
    Census census = new Census();
    int needed = r.workers() - fixed.size();
    LocalityGroups grouper = new LocalityGroups(Math.max(4, 4 * Math.max(1, needed)), index, snap);
    filter.scan(r, snap, census, exclude, grouper);
    int minNeeded = Math.max(0, r.minWorkers() - fixed.size());
    if (census.freeWorkers < Math.max(1, minNeeded) && needed > 0) {
      return UnplaceableReason.of(r, census);
    }
    int target = (int) Math.min(needed, census.freeWorkers);
    Map<String, List<Candidate>> groups = grouper.groups();
    refineWithFragmentation(r, groups);
    List<String> rejected = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    boolean training = r.kind() == JobKind.TRAINING;
    boolean allowDp = r.strategy() != Strategy.PIPELINE_PARALLEL || !training;
    boolean allowPp = r.strategy() != Strategy.DATA_PARALLEL && training;
    List<EvaluatedPlan> options = new ArrayList<>();
    List<List<Worker>> ppSets = new ArrayList<>();
    List<String> ppGroups = new ArrayList<>();
    for (Map.Entry<String, List<Candidate>> g : groups.entrySet()) {
      long room = 0;
      for (Candidate c : g.getValue()) {
        room += c.capacity;
      }
      if (room + fixed.size() < r.minWorkers()) {
        continue;
      }
      List<Worker> workers = new ArrayList<>(fixed);
      workers.addAll(take(r, snap, g.getValue(), target));
      if (workers.size() < r.minWorkers() || !seen.add(signature(workers))) {
        continue;
      }
      if (allowDp || workers.size() == 1) {
        options.add(dataParallel.plan(r, workers, g.getKey()));
      }
      if (allowPp && workers.size() > 1) {
        ppSets.add(workers);
        ppGroups.add(g.getKey());
      }
    }
    searchPipelines(r, options, ppSets, ppGroups, rejected);
    EvaluatedPlan best = null;
    for (EvaluatedPlan e : options) {
      if (e.beats(best)) {
        best = e;
      }
    }
    for (EvaluatedPlan e : options) {
      if (e != best) {
        EvaluatedPlan.note(
            rejected, e.feasible() ? e.describe() + best.whyBetter(e) : e.rejection());
      }
    }
    if (best == null) {
      String why = rejected.isEmpty() ? "no group of nodes can host it" : rejected.get(0);
      return new Unplaceable(
          r.id(),
          "no feasible split for " + UnplaceableReason.describe(r) + ": " + why,
          List.copyOf(rejected));
    }
    return best.finish(rejected, target < needed);
  }

  /** Adds fragmentation growth to the keys of the few kept per group (the costly term). */
  private void refineWithFragmentation(JobRequest r, Map<String, List<Candidate>> groups) {
    Set<Candidate> refined = new HashSet<>();
    for (List<Candidate> l : groups.values()) {
      for (Candidate c : l) {
        if (refined.add(c)) {
          c.key += config.fragmentationWeight() * fragmentation.of(c.state, r);
        }
      }
      l.sort(Comparator.comparingDouble(c -> c.key));
    }
  }

  /**
   * The pipeline search (the costly part) only where its bound can still beat the best so far, most
   * promising groups first, at most {@link #MAX_PIPELINE_GROUPS} of them.
   */
  private void searchPipelines(
      JobRequest r,
      List<EvaluatedPlan> options,
      List<List<Worker>> ppSets,
      List<String> ppGroups,
      List<String> rejected) {
    Integer[] order = new Integer[ppSets.size()];
    double[] bound = new double[ppSets.size()];
    long[] preferred = new long[ppSets.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
      bound[i] = pipeline.boundValue(r, ppSets.get(i));
      preferred[i] = PreferredNodes.of(ppSets.get(i));
    }
    // Most preferred weight first, then the best bound: the order plans are compared in.
    Arrays.sort(
        order,
        (a, b) ->
            preferred[a] != preferred[b]
                ? Long.compare(preferred[b], preferred[a])
                : Double.compare(bound[b], bound[a]));
    int searched = 0;
    for (int i : order) {
      if (searched == MAX_PIPELINE_GROUPS || beaten(options, preferred[i], bound[i])) {
        EvaluatedPlan.note(
            rejected, "PIPELINE_PARALLEL on " + ppGroups.get(i) + ": bound below the best plan");
        continue;
      }
      options.add(pipeline.plan(r, ppSets.get(i), ppGroups.get(i)));
      searched++;
    }
  }

  /**
   * True when a feasible option already beats any pipeline over a worker set whose preferred weight
   * is {@code preferred} (a pipeline uses every worker of its set, so it can have no more) and
   * whose objective is at most {@code bound}.
   */
  private static boolean beaten(List<EvaluatedPlan> options, long preferred, double bound) {
    for (EvaluatedPlan e : options) {
      if (!e.feasible() || e.preferred() < preferred) {
        continue;
      }
      if (e.preferred() > preferred || (e.value > 0 && bound <= e.value)) {
        return true;
      }
    }
    return false;
  }

  private static String signature(List<Worker> ws) {
    StringBuilder b = new StringBuilder();
    for (Worker w : ws) {
      b.append(w.node().name()).append(Arrays.toString(w.gpus())).append(';');
    }
    return b.toString();
  }

  /** Picks workers from candidates in key order, several per node when it has room. */
  private List<Worker> take(JobRequest r, PoolSnapshot snap, List<Candidate> cands, int n) {
    List<Worker> out = new ArrayList<>();
    Map<String, NodeState> used = new HashMap<>();
    Map<String, Integer> spread = new HashMap<>();
    List<Candidate> pool = new ArrayList<>(cands);
    while (out.size() < n && !pool.isEmpty()) {
      Candidate c = pool.get(0);
      if (r.kind() == JobKind.INFERENCE && config.spreadWeight() > 0) {
        // Spread replicas across providers and regions.
        double bestKey = Double.POSITIVE_INFINITY;
        for (Candidate x : pool) {
          PoolNode nx = x.state.node();
          double k =
              x.key
                  + config.spreadWeight()
                      * (spread.getOrDefault("p" + nx.provider(), 0)
                          + spread.getOrDefault("r" + nx.region(), 0));
          if (k < bestKey) {
            bestKey = k;
            c = x;
          }
        }
      }
      PoolNode node = c.state.node();
      NodeState st = used.getOrDefault(node.name(), c.state);
      int[] gpus = st.pick(r.gpusPerWorker(), r.gpuMilli(), r.cpuMillisPerWorker(), 0);
      if (gpus == null || (r.memoryMibPerWorker() > st.memoryFree())) {
        pool.remove(c);
        continue;
      }
      Allocation a =
          new Allocation(
              r.id(),
              node.name(),
              gpus,
              r.gpuMilli(),
              r.cpuMillisPerWorker(),
              r.memoryMibPerWorker());
      used.put(node.name(), st.after(a));
      out.add(
          Worker.of(node, c.spec, gpus, r.gpuMilli(), config)
              .withWarmth(WarmWeights.of(config, r, snap.cachedWeights(), node.name()))
              .withPreferred(PreferredNodes.weight(r, snap, node)));
      spread.merge("p" + node.provider(), 1, Integer::sum);
      spread.merge("r" + node.region(), 1, Integer::sum);
    }
    return out;
  }
}
