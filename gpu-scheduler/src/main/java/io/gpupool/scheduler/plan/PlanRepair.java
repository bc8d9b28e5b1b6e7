package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * After nodes are lost: re-places only the lost ranks next to the survivors, or shrinks the job to
 * its survivors when minWorkers allows, or says why neither is possible.
 */
final class PlanRepair {
  private final SchedulerConfig config;
  private final GangPlanner gangs;
  private final StrategyChooser strategies;

  PlanRepair(SchedulerConfig config, GangPlanner gangs, StrategyChooser strategies) {
    this.config = config;
    this.gangs = gangs;
    this.strategies = strategies;
  }

  /** See {@link Scheduler#repair}. */
  PlanResult repair(Plan plan, Set<String> lostNodes, PoolSnapshot snapshot) {
    JobRequest r = plan.request();
    PoolSnapshot snap = snapshot.withoutNodes(lostNodes);
    boolean holds = snap.allocations().stream().anyMatch(a -> a.jobId().equals(r.id()));
    List<RankPlacement> survivors = new ArrayList<>();
    List<RankPlacement> lost = new ArrayList<>();
    for (RankPlacement rp : plan.ranks()) {
      (lostNodes.contains(rp.node()) ? lost : survivors).add(rp);
    }
    if (lost.isEmpty()) {
      return plan;
    }
    if (!holds) {
      snap = snap.with(survivorAllocations(r, survivors));
    }
    List<Worker> fixed = new ArrayList<>();
    for (RankPlacement rp : survivors) {
      PoolNode n = snap.node(rp.node());
      GpuSpec spec =
          config.catalog().lookup(n.gpuProduct(), n.gpuMemoryMib(), null).atSpeed(n.speedFactor());
      fixed.add(
          Worker.of(n, spec, rp.gpuIndices(), rp.milliPerGpu(), config)
              .withPreferred(PreferredNodes.weight(r, snap, n)));
    }
    String lostDesc =
        lost.size() + " rank(s) on lost node" + plural(lostNodes) + " " + sorted(lostNodes);
    PlanResult replaced = gangs.plan(r.withWorkers(r.workers()), snap, Set.of(), fixed);
    if (replaced instanceof Plan p && p.ranks().size() == plan.ranks().size()) {
      return withWhy(
          p,
          "Repaired: re-placed "
              + lostDesc
              + " onto "
              + sorted(newNodes(p, survivors))
              + "; "
              + survivors.size()
              + " rank(s) kept"
              + (survivors.isEmpty() ? "" : " on " + sorted(nodes(survivors)))
              + ".",
          plan.request());
    }
    if (survivors.size() >= r.minWorkers()) {
      JobRequest shrunk = r.withWorkers(survivors.size());
      EvaluatedPlan e = strategies.best(shrunk, fixed, "surviving nodes");
      if (e.feasible()) {
        return withWhy(
            e.finish(List.of(), false),
            "Shrunk elastically from "
                + r.workers()
                + " to "
                + survivors.size()
                + " workers after losing "
                + lostDesc
                + " (no replacement: "
                + (replaced instanceof Unplaceable u ? u.reason() : "partial")
                + ").",
            r);
      }
    }
    String reason = replaced instanceof Unplaceable u ? u.reason() : "replacement incomplete";
    return new Unplaceable(
        r.id(),
        "lost "
            + lostDesc
            + "; cannot replace them ("
            + reason
            + ") and only "
            + survivors.size()
            + " of minWorkers "
            + r.minWorkers()
            + " survive",
        List.of());
  }

  /** Nodes of the repaired plan's ranks that are not a survivor's (node, GPUs): the new homes. */
  private static Set<String> newNodes(Plan repaired, List<RankPlacement> survivors) {
    Set<String> kept = new HashSet<>();
    survivors.forEach(rp -> kept.add(slot(rp)));
    Set<String> fresh = new TreeSet<>();
    for (RankPlacement rp : repaired.ranks()) {
      if (!kept.contains(slot(rp))) {
        fresh.add(rp.node());
      }
    }
    return fresh;
  }

  private static String slot(RankPlacement rp) {
    return rp.node() + Arrays.toString(rp.gpuIndices()) + "/" + rp.milliPerGpu();
  }

  private static Set<String> nodes(List<RankPlacement> ranks) {
    Set<String> nodes = new TreeSet<>();
    ranks.forEach(rp -> nodes.add(rp.node()));
    return nodes;
  }

  private static String sorted(Set<String> names) {
    return String.join(", ", new TreeSet<>(names));
  }

  private static String plural(Set<String> names) {
    return names.size() == 1 ? "" : "s";
  }

  /** The survivors' allocations, for a snapshot that no longer records the job's holding. */
  private static List<Allocation> survivorAllocations(JobRequest r, List<RankPlacement> survivors) {
    List<Allocation> keep = new ArrayList<>();
    for (RankPlacement rp : survivors) {
      keep.add(
          new Allocation(
              r.id(),
              rp.node(),
              rp.gpuIndices(),
              rp.milliPerGpu(),
              r.cpuMillisPerWorker(),
              r.memoryMibPerWorker()));
    }
    return keep;
  }

  /** {@code p} with {@code first} put before its explanation, serving {@code request}. */
  private static Plan withWhy(Plan p, String first, JobRequest request) {
    List<String> why = new ArrayList<>();
    why.add(first);
    why.addAll(p.why());
    return new Plan(
        p.jobId(),
        p.strategy(),
        p.ranks(),
        p.stepSeconds(),
        p.samplesPerSecond(),
        p.pricePerHour(),
        p.score(),
        why,
        p.rejected(),
        request);
  }
}
