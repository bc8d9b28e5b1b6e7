package io.gpupool.scheduler.replay;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One replay run, exactly as scheduler-benchmarks.md describes: shuffle the pods with the seed,
 * append random copies until the GPU request reaches {@code inflation} × capacity, shuffle the node
 * order, then give each pod exactly one placement attempt in order; pods never leave.
 */
public final class Replay {
  /** Highest arrived % tracked. */
  public static final int MAX_ARRIVED = 200;

  /**
   * Unallocated GPU % observed after each pod, indexed by arrived % (rounded); {@code NaN} where no
   * pod ended at that arrived %.
   *
   * @param lastAt unallocated % after the last pod whose arrived % rounds to the index
   * @param placed pods placed
   * @param failed pods that found no node
   * @param freeAt100 where the free capacity sat after the last pod whose arrived % rounds to 100
   *     (null if none did)
   */
  public record Result(double[] lastAt, int placed, int failed, FreeCapacity freeAt100) {
    /** Unallocated GPU % at arrived = {@code a} %. */
    public double at(int a) {
      return lastAt[a];
    }
  }

  private Replay() {}

  /** The pod sequence for a seed (inflated and shuffled). */
  public static List<TracePod> workload(
      List<TracePod> pods, long capacityMilli, double inflation, Random rng) {
    List<TracePod> seq = new ArrayList<>(pods);
    Collections.shuffle(seq, rng);
    long sum = 0;
    for (TracePod p : seq) {
      sum += p.totalGpuMilli();
    }
    double target = inflation * capacityMilli;
    while (sum < target) {
      TracePod p = pods.get(rng.nextInt(pods.size()));
      seq.add(p);
      sum += p.totalGpuMilli();
    }
    return seq;
  }

  /** Task classes of a pod list, as FGD is told them. */
  public static List<TaskClass> taskClasses(List<TracePod> pods, ModelBits bits) {
    List<TaskClass> out = new ArrayList<>(pods.size());
    for (TracePod p : pods) {
      out.add(taskClass(p, bits));
    }
    return out;
  }

  static TaskClass taskClass(TracePod p, ModelBits bits) {
    return new TaskClass(p.cpuMilli(), p.gpuMilli(), p.numGpu(), bits.mask(p.allowedModels()));
  }

  /** Runs one policy on one seed. */
  public static Result run(List<TraceNode> nodes, List<TracePod> pods, String policy, long seed) {
    return run(nodes, pods, policy, seed, 1.3);
  }

  /** Runs one policy on one seed with a given inflation factor. */
  public static Result run(
      List<TraceNode> nodes, List<TracePod> pods, String policy, long seed, double inflation) {
    ModelBits bits = new ModelBits();
    List<TraceNode> gpuNodes = nodes.stream().filter(n -> n.gpus() > 0).toList();
    long capacity = 1000L * gpuNodes.stream().mapToLong(TraceNode::gpus).sum();
    Random rng = new Random(seed);
    List<TracePod> seq = workload(pods, capacity, inflation, rng);
    List<TraceNode> order = new ArrayList<>(gpuNodes);
    Collections.shuffle(order, rng);
    ReplayCluster cluster = new ReplayCluster(order, bits);
    ReplayPolicy p = Policies.create(policy, seed, taskClasses(pods, bits));

    Map<TaskClass, Integer> ids = new HashMap<>();
    double[] lastAt = new double[MAX_ARRIVED + 1];
    java.util.Arrays.fill(lastAt, Double.NaN);
    long arrived = 0;
    int placed = 0;
    int failed = 0;
    FreeCapacity freeAt100 = null;
    for (TracePod tp : seq) {
      TaskClass cls = taskClass(tp, bits);
      ReplayPod pod =
          new ReplayPod(tp, cls, tp.memoryMib(), ids.computeIfAbsent(cls, k -> ids.size()));
      p.arrived(pod);
      ReplayPolicy.Choice choice = p.choose(cluster, pod);
      if (choice != null) {
        cluster.place(choice.node(), pod, choice.gpus());
        placed++;
      } else {
        failed++;
      }
      arrived += tp.totalGpuMilli();
      int a = (int) Math.round(100.0 * arrived / capacity);
      if (a <= MAX_ARRIVED) {
        lastAt[a] = 100.0 - 100.0 * cluster.allocatedMilli / capacity;
      }
      if (a == 100) {
        freeAt100 = FreeCapacity.of(cluster);
      }
    }
    return new Result(lastAt, placed, failed, freeAt100);
  }
}
