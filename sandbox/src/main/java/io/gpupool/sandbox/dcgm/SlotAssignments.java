package io.gpupool.sandbox.dcgm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which device-plugin slot each running pod holds, kept across scrapes the way the device plugin
 * keeps an allocation for a pod's lifetime: a pod keeps its GPUs when others come and go, a new pod
 * gets the lowest free slots. Slot {@code s} of a node lives on GPU {@code s / replicas}.
 */
final class SlotAssignments {
  /** A pod's share of one GPU. */
  record Holding(GpuClaim claim, int slots) {}

  private final Map<String, String[]> ownerBySlot = new HashMap<>();

  /**
   * Updates the node's allocation to the pods running there now and returns the pods on each GPU
   * index (GPUs nobody holds are absent), earliest holder first.
   */
  Map<Integer, List<Holding>> assign(NodeGpus node, List<GpuClaim> running) {
    String[] owners =
        ownerBySlot.compute(
            node.node(),
            (k, old) -> old == null ? new String[node.slots()] : Arrays.copyOf(old, node.slots()));
    Set<String> present = running.stream().map(GpuClaim::uid).collect(Collectors.toSet());
    for (int s = 0; s < owners.length; s++) {
      if (owners[s] != null && !present.contains(owners[s])) {
        owners[s] = null;
      }
    }
    List<GpuClaim> ordered =
        running.stream()
            .sorted(Comparator.comparing(GpuClaim::startedAt).thenComparing(GpuClaim::pod))
            .toList();
    for (GpuClaim claim : ordered) {
      int missing = claim.slots() - held(owners, claim.uid());
      for (int s = 0; s < owners.length && missing > 0; s++) {
        if (owners[s] == null) {
          owners[s] = claim.uid();
          missing--;
        }
      }
    }
    Map<String, GpuClaim> byUid = new HashMap<>();
    ordered.forEach(c -> byUid.put(c.uid(), c));
    Map<Integer, Map<String, Integer>> slotsByGpu = new LinkedHashMap<>();
    for (int s = 0; s < owners.length; s++) {
      if (owners[s] != null) {
        slotsByGpu
            .computeIfAbsent(s / node.replicas(), g -> new LinkedHashMap<>())
            .merge(owners[s], 1, Integer::sum);
      }
    }
    Map<Integer, List<Holding>> result = new LinkedHashMap<>();
    slotsByGpu.forEach(
        (gpu, slots) -> {
          List<Holding> holdings = new ArrayList<>();
          ordered.stream()
              .filter(c -> slots.containsKey(c.uid()))
              .forEach(c -> holdings.add(new Holding(byUid.get(c.uid()), slots.get(c.uid()))));
          result.put(gpu, holdings);
        });
    return result;
  }

  /** Forgets nodes that left the cluster. */
  void retainNodes(Set<String> nodes) {
    ownerBySlot.keySet().retainAll(nodes);
  }

  private static int held(String[] owners, String uid) {
    int n = 0;
    for (String o : owners) {
      if (uid.equals(o)) {
        n++;
      }
    }
    return n;
  }
}
