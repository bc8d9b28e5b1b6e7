package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.SharingStrategy;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A placement's snapshot from the holdings the ledger keeps by node ({@code
 * PoolView.snapshot(NodeHoldings, replaced)}, moved on by the nodes that changed) equals the one
 * laid out from a whole copy of every holding ({@code AllocationLedger.holdings()}, as placement
 * did before), over thousands of random reservations, releases, covers, own and foreign pod events,
 * with the placed job's own holding left out or replaced. A change the ledger does not journal
 * leaves the kept snapshot behind and fails here.
 */
class KeptHoldingsPropertyTest {
  private static final int NODES = 24;

  @Test
  void theKeptSnapshotEqualsTheOneFromAWholeCopyAfterEveryEvent() {
    Random r = new Random(16);
    List<GpuNode> nodes = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      // Every fourth node shares its GPUs (4 slots each); one node is not priced (not offered).
      nodes.add(node("n" + i, 1 + r.nextInt(4), i % 4 == 3 ? 4 : 1));
    }
    PoolView view =
        new PoolView(
            nodes,
            (provider, product) ->
                provider.equals("n5") ? Optional.empty() : Optional.of(BigDecimal.ONE),
            provider -> 0.99,
            true);
    AllocationLedger ledger = new AllocationLedger();
    Map<String, String> ownerOfPod = new HashMap<>();
    for (int step = 0; step < 6_000; step++) {
      String holder = "TrainingJob/ns/j" + r.nextInt(30);
      String node = "n" + r.nextInt(NODES + 2); // two nodes the view does not know
      switch (r.nextInt(6)) {
        case 0 -> ledger.hold(holder, randomHolding(r));
        case 1 -> ledger.release(holder);
        case 2 -> ledger.cover(holder, randomHolding(r));
        case 3 -> {
          String pod = "ns/p" + r.nextInt(60);
          String owner = ownerOfPod.computeIfAbsent(pod, p -> holder);
          boolean ends = r.nextInt(3) == 0;
          ledger.observeOwn(pod, owner, ends ? null : node, ends ? 0 : 1 + r.nextInt(3));
        }
        case 4 -> {
          boolean ends = r.nextInt(3) == 0;
          ledger.observeForeign("kube/f" + r.nextInt(10), ends ? null : node, 1 + r.nextInt(2));
        }
        default -> {} // a placement with nothing changed since the last
      }
      if (r.nextInt(3) > 0) {
        continue; // several changes between two placements
      }
      String placed = "TrainingJob/ns/j" + r.nextInt(30);
      Map<String, Map<String, Integer>> replaced =
          switch (r.nextInt(3)) {
            case 0 -> Map.of(placed, Map.of()); // a training job planned without its own holding
            case 1 -> Map.of(placed, randomHolding(r)); // an inference job's replicas kept
            default -> Map.of(); // a repair: every holding stays
          };
      Map<String, Map<String, Integer>> copy = ledger.holdings();
      copy.putAll(replaced);
      PoolSnapshot expected = view.snapshot(copy);
      PoolSnapshot kept = ledger.decide(() -> view.snapshot(ledger.byNode(), replaced));
      for (var n : expected.nodes()) {
        String name = n.name();
        assertThat(kept.allocationsOn(name))
            .as("step %d, node %s, %s replaced", step, name, replaced)
            .isEqualTo(expected.allocationsOn(name));
        assertThat(kept.state(name).freeMilli())
            .as("step %d, node %s", step, name)
            .isEqualTo(expected.state(name).freeMilli());
      }
    }
  }

  private static Map<String, Integer> randomHolding(Random r) {
    Map<String, Integer> out = new HashMap<>();
    int nodes = r.nextInt(3);
    for (int i = 0; i < nodes; i++) {
      out.put("n" + r.nextInt(NODES + 2), 1 + r.nextInt(4));
    }
    return out;
  }

  private static GpuNode node(String name, int gpus, int replicas) {
    return new GpuNode(
        name,
        name,
        "eu",
        "eu-a",
        "NVIDIA-GeForce-RTX-4090",
        "ada-lovelace",
        8,
        9,
        gpus,
        24564,
        replicas > 1 ? SharingStrategy.TIME_SLICING : SharingStrategy.NONE,
        replicas,
        replicas > 1 ? "nvidia.com/gpu.shared" : "nvidia.com/gpu",
        gpus * replicas,
        Map.of(),
        64000,
        1L << 38,
        true,
        (Instant) null,
        true);
  }
}
