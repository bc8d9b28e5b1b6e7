package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.NodeState;

/** An eligible node with its ranking key (lower is better). */
final class Candidate {
  final int index;
  final NodeState state;
  final GpuSpec spec;

  /** Workers of the request that fit on the node, placed one after another. */
  final int capacity;

  double key;

  Candidate(int index, NodeState state, GpuSpec spec, int capacity, double key) {
    this.index = index;
    this.state = state;
    this.spec = spec;
    this.capacity = capacity;
    this.key = key;
  }

  /** Receives eligible nodes from the pool scan without allocating for the ones it drops. */
  interface Sink {
    void accept(int index, NodeState state, GpuSpec spec, int capacity, double key);
  }
}
