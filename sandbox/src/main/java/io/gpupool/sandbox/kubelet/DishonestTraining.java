package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Node;
import java.util.Map;

/**
 * The sandbox's dishonest training provider: a node labelled {@value #SKIP_STEPS_LABEL} with N
 * gives its process-mode pods {@value #SKIP_STEPS_ENV}=N, and the reference trainer then claims
 * every Nth optimizer step without taking it (examples/workloads/ddp_train.py). The operator's
 * spot-checks have that to catch (docs/trust.md, "Training spot-checks"); its hardware is genuine,
 * so hardware challenges pass.
 */
final class DishonestTraining {
  static final String SKIP_STEPS_LABEL = "sandbox.gpupool.io/skip-optimizer-steps";
  static final String SKIP_STEPS_ENV = "SANDBOX_SKIP_OPTIMIZER_STEPS";

  private DishonestTraining() {}

  /** The variables the node adds to a process's env: none for an honest node. */
  static Map<String, String> env(Node node) {
    if (node == null || node.getMetadata() == null || node.getMetadata().getLabels() == null) {
      return Map.of();
    }
    String every = node.getMetadata().getLabels().get(SKIP_STEPS_LABEL);
    if (every == null || !every.matches("[1-9][0-9]{0,5}")) {
      return Map.of();
    }
    return Map.of(SKIP_STEPS_ENV, every);
  }
}
