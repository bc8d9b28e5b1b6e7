package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.pool.PoolSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A pool of thousands of nodes (the queue benchmark runs 5,000): the sandbox must have every node
 * stored, Ready and leased quickly, or a benchmark measures the sandbox's start instead of the
 * operator. The nodes and their leases are seeded into the API server's store in-process (the
 * defaults and metadata of a create, no round trip and no existence scan per node); before, 1,000
 * nodes took 67 s to create and 134 s to lease on a loaded 2-core machine.
 */
class LargePoolIT {
  static final int NODES = Integer.getInteger("gpupool.it.largePoolNodes", 300);

  static PoolSpec pool(int nodes) {
    List<PoolSpec.NodeGroup> groups = new ArrayList<>();
    PoolSpec.Gpu gpu =
        new PoolSpec.Gpu(
            "NVIDIA-GeForce-RTX-4090",
            2,
            24564,
            "ada-lovelace",
            8,
            9,
            null,
            null,
            null,
            null,
            null);
    for (int g = 0; g < nodes / 100; g++) {
      groups.add(
          new PoolSpec.NodeGroup(
              "big-" + g,
              100,
              "p1",
              "eu-west",
              "eu-west-1a",
              gpu,
              "32",
              "128Gi",
              null,
              null,
              null));
    }
    return new PoolSpec(
        List.of(
            new PoolSpec.Provider(
                "p1",
                "P1",
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "eu-west",
                Map.of("NVIDIA-GeForce-RTX-4090", "0.40"))),
        groups);
  }

  @Test
  void thousandsOfNodesAreStoredReadyAndLeasedWithinSeconds() throws Exception {
    long t0 = System.nanoTime();
    Sandbox.Builder builder =
        Sandbox.builder()
            .pool(pool(NODES))
            .log(
                line -> {
                  if (!line.startsWith("node/")) {
                    System.out.printf(
                        "LargePoolIT: %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, line);
                  }
                });
    try (Sandbox sandbox = builder.start()) {
      double started = (System.nanoTime() - t0) / 1e9;
      KubernetesClient client = sandbox.client();
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      int leases = 0;
      while (System.nanoTime() < deadline) {
        leases = client.leases().inNamespace("kube-node-lease").list().getItems().size();
        if (leases >= NODES) {
          break;
        }
        Thread.sleep(200);
      }
      double leased = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "LargePoolIT: %d nodes: sandbox started in %.1f s, all leased after %.1f s%n",
          NODES, started, leased);
      long g0 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        client.nodes().withName("big-0-" + (i + 1)).get();
      }
      System.out.printf(
          "LargePoolIT: one GET of a node by name with %d nodes and leases stored: %.1f ms%n",
          NODES, (System.nanoTime() - g0) / 20 / 1e6);
      List<Node> nodes = client.nodes().list().getItems();
      assertThat(nodes).hasSize(NODES);
      assertThat(nodes)
          .allSatisfy(
              n ->
                  assertThat(n.getStatus().getConditions())
                      .anySatisfy(
                          c -> {
                            assertThat(c.getType()).isEqualTo("Ready");
                            assertThat(c.getStatus()).isEqualTo("True");
                          }));
      assertThat(leases).isEqualTo(NODES);
      // Seeded, not written through the API: no client wrote a node or read or wrote a lease (the
      // old path made three requests per node, each scanning every stored object).
      assertThat(sandbox.apiServer().accessLog().calls(""))
          .noneMatch(
              c ->
                  (c.resource().equals("leases") && !c.verb().equals("list"))
                      || (c.resource().startsWith("nodes")
                          && !c.verb().equals("get")
                          && !c.verb().equals("list")
                          && !c.verb().equals("watch")));
      // Loose bounds (the machine may be loaded): the old path took 134 s for 1,000 nodes.
      assertThat(started).as("seconds until the sandbox has its nodes").isLessThan(60);
      assertThat(leased).as("seconds until every node is leased").isLessThan(60);
    }
  }
}
