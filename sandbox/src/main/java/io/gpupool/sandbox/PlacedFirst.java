package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * Lets the reference workloads be placed before the examples are applied. The spot-check demo
 * prefers the dishonest provider's RTX 4090 node; a preference ranks what is free and reserves
 * nothing, so an example applied in the same moment can be decided first and take one of that
 * node's GPUs, and the demo would run honestly on the A100s with nothing to catch. Bounded: a job
 * that stays Pending (no operator, no room) only delays the examples by {@code timeout}.
 */
final class PlacedFirst {
  private PlacedFirst() {}

  /** Waits until every job in {@code applied} has left Pending, or {@code timeout} passed. */
  static void await(
      KubernetesClient client, List<HasMetadata> applied, Duration timeout, PrintStream out)
      throws InterruptedException {
    List<HasMetadata> jobs = SmokeCheck.jobs(applied);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> pending =
          jobs.stream()
              .filter(j -> notPlaced(SmokeCheck.phase(SmokeCheck.fetch(client, j))))
              .map(SmokeCheck::describe)
              .toList();
      if (pending.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        out.println(
            "[sandbox] still Pending after "
                + timeout.toSeconds()
                + " s, applying the examples anyway: "
                + String.join(", ", pending));
        return;
      }
      Thread.sleep(500);
    }
  }

  private static boolean notPlaced(String phase) {
    return phase == null || "Pending".equals(phase);
  }
}
