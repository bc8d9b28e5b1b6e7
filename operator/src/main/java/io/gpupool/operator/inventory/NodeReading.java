package io.gpupool.operator.inventory;

import java.util.Optional;

/** The outcome of reading a Node: a usable {@link GpuNode}, or why the node was left out. */
public sealed interface NodeReading {
  /** The node's name. */
  String nodeName();

  /** The node was read; it belongs in the pool. */
  record Accepted(GpuNode node) implements NodeReading {
    @Override
    public String nodeName() {
      return node.name();
    }
  }

  /**
   * The node was left out. {@code gpuNode} is false for nodes that simply have no GPU, which are
   * not worth a log line; true for GPU nodes whose labels are missing or wrong.
   */
  record Skipped(String nodeName, String reason, boolean gpuNode) implements NodeReading {}

  /** The accepted node, if any. */
  default Optional<GpuNode> accepted() {
    return this instanceof Accepted a ? Optional.of(a.node()) : Optional.empty();
  }
}
