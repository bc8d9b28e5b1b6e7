package io.gpupool.operator.billing;

import java.util.Objects;

/**
 * The billing terms the operator fixed for one pod it placed, as it keeps them in its own usage
 * record (the job's usage ConfigMap, in the operator's namespace): the node it placed the pod on
 * and the terms. Metering bills a pod at these, never at what the pod's annotations say: a tenant
 * who may edit pods in its namespace could rewrite those before the meter first sees the pod.
 *
 * @param node the node the operator placed the pod on
 * @param provider the GpuProvider of that node, who is paid for the pod ("" when none)
 * @param terms price and GPU share fixed at placement
 */
public record PlacedTerms(String node, String provider, PlacementTerms terms) {
  public PlacedTerms {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(terms, "terms");
  }

  /** True when these are the terms of a pod that runs on {@code podNode}. */
  boolean appliesOn(String podNode) {
    return node.equals(podNode);
  }
}
