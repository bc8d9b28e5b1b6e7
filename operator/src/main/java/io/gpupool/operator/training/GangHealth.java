package io.gpupool.operator.training;

import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.provider.ReliabilityTracker;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * What following a gang observes beyond its pods: the nodes its ranks run on (lost, or back within
 * the grace period) and how reliable their providers have been.
 */
@Singleton
public class GangHealth {
  private final NodeInventory inventory;
  private final Duration lostGracePeriod;
  private final ReliabilityTracker reliability;

  public GangHealth(NodeInventory inventory, GpupoolConfig config, ReliabilityTracker reliability) {
    this.inventory = inventory;
    this.lostGracePeriod = config.nodes().lostGracePeriod();
    this.reliability = reliability;
  }

  NodeInventory inventory() {
    return inventory;
  }

  /** How long a node may be NotReady or gone before its ranks are repaired elsewhere. */
  Duration lostGracePeriod() {
    return lostGracePeriod;
  }

  ReliabilityTracker reliability() {
    return reliability;
  }
}
