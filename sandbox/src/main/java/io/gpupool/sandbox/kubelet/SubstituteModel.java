package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Node;
import java.util.Map;

/**
 * A dishonest provider's serving trick in the sandbox: on a node labelled {@value #LABEL}{@code
 * =substitute}, process-mode model servers ({@code examples/workloads/serve.py}) get {@value
 * #ENV}{@code =1} and serve a cheaper model under the same name, which the operator's canary
 * cross-checks are there to catch. Other programs ignore the variable.
 */
final class SubstituteModel {
  static final String LABEL = "sandbox.gpupool.io/serve-model";
  static final String ENV = "GPUPOOL_SANDBOX_SUBSTITUTE_MODEL";

  private SubstituteModel() {}

  /** What the node adds to a process's environment. */
  static Map<String, String> env(Node node) {
    if (node == null || node.getMetadata().getLabels() == null) {
      return Map.of();
    }
    return "substitute".equals(node.getMetadata().getLabels().get(LABEL))
        ? Map.of(ENV, "1")
        : Map.of();
  }
}
