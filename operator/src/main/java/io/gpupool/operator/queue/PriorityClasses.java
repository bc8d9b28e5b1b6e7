package io.gpupool.operator.queue;

import java.util.OptionalInt;

/** Values of scheduling.k8s.io PriorityClasses. */
public interface PriorityClasses {
  /** The class's value; empty when there is no such class. */
  OptionalInt value(String name);
}
