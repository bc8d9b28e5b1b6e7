package io.gpupool.sandbox.api;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where {@code GET .../pods/NAME/log} finds real output: containers the kubelet runs as local
 * processes write their stdout and stderr to a file. Pods without one keep the simulated answer.
 */
public interface PodLogSource {

  /** The output of a container (null: the pod's first), while it runs and after it ended. */
  Optional<ContainerLog> find(String namespace, String pod, String container);

  /**
   * A container's output file; {@code running} tells a follower whether more may come.
   *
   * @param file stdout and stderr, interleaved as written
   */
  record ContainerLog(Path file, java.util.function.BooleanSupplier running) {}

  /** No container runs as a process. */
  PodLogSource NONE = (namespace, pod, container) -> Optional.empty();
}
