package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.NodeShapes;
import java.util.function.Supplier;

/**
 * The pool's node shapes as admission last read them, read again only after a node changed. Called
 * under the {@link AdmissionController}'s lock.
 */
final class PoolShapes {
  /** Where the shapes come from; null from it while unknown (then quota alone decides). */
  private Supplier<NodeShapes> source = () -> null;

  private boolean stale = true;
  private NodeShapes current;

  void source(Supplier<NodeShapes> source) {
    this.source = source;
    stale = true;
  }

  /** A node joined, left or changed. */
  void stale() {
    stale = true;
  }

  /** Reads the node shapes again when they may have changed; true when the book got new ones. */
  boolean refresh(AdmissionBook book) {
    if (!stale) {
      return false;
    }
    NodeShapes now = source.get();
    stale = now == null; // unknown until the nodes have been listed
    if (now == null || now.equals(current)) {
      return false;
    }
    current = now;
    book.nodeShapes(now);
    return true;
  }
}
