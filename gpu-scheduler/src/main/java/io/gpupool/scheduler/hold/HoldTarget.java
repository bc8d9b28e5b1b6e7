package io.gpupool.scheduler.hold;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the head would run once the jobs there have ended: whole GPUs, CPU and memory by node,
 * taken from its plan on the pool with those jobs gone. What is free of it now is held for the
 * head.
 */
record HoldTarget(
    String head, Map<String, Integer> gpus, Map<String, Long> cpu, Map<String, Long> memory) {

  static HoldTarget of(String head, Plan plan) {
    Map<String, Integer> gpus = new HashMap<>();
    Map<String, Long> cpu = new HashMap<>();
    Map<String, Long> memory = new HashMap<>();
    for (Allocation a : plan.allocations()) {
      gpus.merge(a.node(), a.gpuIndices().length, Integer::sum);
      cpu.merge(a.node(), a.cpuMillis(), Long::sum);
      memory.merge(a.node(), a.memoryMib(), Long::sum);
    }
    return new HoldTarget(head, Map.copyOf(gpus), Map.copyOf(cpu), Map.copyOf(memory));
  }

  /** Every target node is still in {@code s}, ready and not left out of placement. */
  boolean validIn(PoolSnapshot s) {
    for (String n : gpus.keySet()) {
      if (s.node(n) == null || !s.node(n).ready() || s.exclusions().containsKey(n)) {
        return false;
      }
    }
    return true;
  }

  /**
   * What is free of the target in {@code s}, as allocations of {@code hold:<head>}: on each node
   * its lowest whole free GPUs up to the target, and as much CPU and memory as the target asks.
   */
  List<Allocation> heldIn(PoolSnapshot s) {
    List<Allocation> out = new ArrayList<>();
    gpus.forEach(
        (node, wanted) -> {
          NodeState state = s.state(node);
          if (state == null) {
            return;
          }
          int[] indices = wholeFree(state, wanted);
          long c = Math.min(cpu.get(node), state.cpuFree());
          long m = Math.min(memory.get(node), state.memoryFree());
          if (indices.length > 0 || c > 0 || m > 0) {
            out.add(new Allocation(GangHold.HOLD_PREFIX + head, node, indices, 1000, c, m));
          }
        });
    return out;
  }

  private static int[] wholeFree(NodeState state, int most) {
    int n = Math.min(most, state.wholeFree());
    int[] out = new int[n];
    int k = 0;
    for (int g = 0; g < state.node().gpuCount() && k < n; g++) {
      if (state.freeMilli(g) == 1000) {
        out[k++] = g;
      }
    }
    return out;
  }

  /**
   * When the jobs on the target nodes are sure to have freed what the head misses there (the latest
   * over its nodes); {@code Long.MAX_VALUE} when one it waits for has no known end.
   */
  long shadow(PoolSnapshot s, Endings endings, long now) {
    long shadow = now;
    for (var e : gpus.entrySet()) {
      NodeState state = s.state(e.getKey());
      int missing = state == null ? e.getValue() : e.getValue() - state.wholeFree();
      if (missing <= 0) {
        continue;
      }
      List<Allocation> there = new ArrayList<>();
      for (Allocation a : s.allocationsOn(e.getKey())) {
        if (!a.jobId().startsWith(GangHold.HOLD_PREFIX)) {
          there.add(a);
        }
      }
      there.sort(Comparator.comparingLong(a -> endBy(a, endings)));
      long freed = 0;
      long at = Long.MAX_VALUE;
      for (Allocation a : there) {
        freed += a.totalMilli();
        if (freed >= missing * 1000L) {
          at = endBy(a, endings);
          break;
        }
      }
      shadow = Math.max(shadow, at);
    }
    return shadow;
  }

  private static long endBy(Allocation a, Endings endings) {
    return endings.ends(a.jobId()) ? endings.endBy(a.jobId()) : Long.MAX_VALUE;
  }

  /** The reservation with {@code held} (from {@link #heldIn}) and its shadow time. */
  Reservation reservation(List<Allocation> held, long shadow) {
    Map<String, Integer> byNode = new HashMap<>();
    for (Allocation a : held) {
      byNode.put(a.node(), a.gpuIndices().length);
    }
    return new Reservation(head, gpus, byNode, shadow);
  }
}
