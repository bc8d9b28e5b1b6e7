package io.gpupool.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.IOException;
import java.util.Map;

/** Opens the sandbox-with-operator harness to the benchmark package. */
public final class SandboxAccess implements AutoCloseable {
  private final SandboxCluster cluster;

  private SandboxAccess(SandboxCluster cluster) {
    this.cluster = cluster;
  }

  /** The default pool at real time scale, the operator's metrics on {@code httpPort}. */
  public static SandboxAccess start(String name, int httpPort) throws IOException {
    return new SandboxAccess(
        SandboxCluster.start(name, 1, Map.of("GPUPOOL_EVENTS_ENABLED", "true"), httpPort));
  }

  /**
   * {@code pool} at {@code timeScale} sandbox seconds per wall second, metrics on {@code httpPort}.
   */
  public static SandboxAccess start(String name, int httpPort, double timeScale, PoolSpec pool)
      throws IOException {
    return new SandboxAccess(SandboxCluster.startOnPool(name, timeScale, Map.of(), httpPort, pool));
  }

  public KubernetesClient client() {
    return cluster.client();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
