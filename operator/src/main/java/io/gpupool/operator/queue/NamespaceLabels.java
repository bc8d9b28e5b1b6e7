package io.gpupool.operator.queue;

import java.util.Map;

/** Labels of a namespace (for the {@code gpupool.io/queue} label). */
public interface NamespaceLabels {
  /** The namespace's labels; empty when it cannot be read. */
  Map<String, String> of(String namespace);
}
