package io.gpupool.sandbox.dcgm;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every GPU of the sandbox's nodes as dcgm-exporter would report it, from the cluster's Nodes and
 * Pods (no I/O: the exporter hands it what its informers hold). Keeps the per-pod GPU allocation
 * and the energy counters between calls.
 */
final class SimulatedGpus {
  private final SlotAssignments slots = new SlotAssignments();
  private final EnergyCounters energy = new EnergyCounters();

  /** The readings of every GPU, nodes by name, GPUs by index. */
  synchronized List<GpuReading> read(Collection<Node> nodes, Collection<Pod> pods, Instant now) {
    Map<String, List<GpuClaim>> claims = new HashMap<>();
    for (Pod pod : pods) {
      GpuClaim.of(pod)
          .ifPresent(c -> claims.computeIfAbsent(c.node(), n -> new ArrayList<>()).add(c));
    }
    List<NodeGpus> gpuNodes =
        nodes.stream()
            .map(NodeGpus::of)
            .flatMap(Optional::stream)
            .sorted(Comparator.comparing(NodeGpus::node))
            .toList();
    Set<String> names = new HashSet<>();
    List<GpuReading> readings = new ArrayList<>();
    for (NodeGpus node : gpuNodes) {
      names.add(node.node());
      Map<Integer, List<SlotAssignments.Holding>> held =
          slots.assign(node, claims.getOrDefault(node.node(), List.of()));
      for (int gpu = 0; gpu < node.count(); gpu++) {
        readings.add(GpuTelemetry.read(node, gpu, held.getOrDefault(gpu, List.of()), now));
      }
    }
    slots.retainNodes(names);
    return readings;
  }

  /** The Prometheus exposition dcgm-exporter would serve now. */
  synchronized String exposition(Collection<Node> nodes, Collection<Pod> pods, Instant now) {
    List<GpuReading> readings = read(nodes, pods, now);
    return DcgmExposition.render(readings, energy.advance(readings, now));
  }
}
