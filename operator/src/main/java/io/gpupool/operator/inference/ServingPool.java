package io.gpupool.operator.inference;

import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * The pool as an InferenceJob's replicas are observed in and placed on: the nodes (a replica on a
 * node gone for longer than the grace period is lost), the model weights each node has cached and
 * how a node fetches them, and how long a replica taken out of its Service drains.
 */
@Singleton
public class ServingPool {
  private final NodeInventory inventory;
  private final WeightsCacheBook weightsCache;
  private final ModelCache.Settings cacheSettings;
  private final Duration lostGrace;
  private final Duration drainPeriod;

  public ServingPool(NodeInventory inventory, WeightsCacheBook weightsCache, GpupoolConfig config) {
    this.inventory = inventory;
    this.weightsCache = weightsCache;
    var cache = config.inference().weightsCache();
    this.cacheSettings =
        new ModelCache.Settings(cache.root(), cache.fetcherImage(), cache.fetcherCommand());
    this.lostGrace = config.nodes().lostGracePeriod();
    this.drainPeriod = config.inference().drainPeriod();
  }

  NodeInventory inventory() {
    return inventory;
  }

  WeightsCacheBook weightsCache() {
    return weightsCache;
  }

  /** Where a node keeps model weights and the init container that fetches them. */
  ModelCache.Settings cacheSettings() {
    return cacheSettings;
  }

  /** How long a node may be NotReady or gone before its replicas are recreated elsewhere. */
  Duration lostGrace() {
    return lostGrace;
  }

  /** How long a replica out of the Service finishes its requests before it is deleted. */
  Duration drainPeriod() {
    return drainPeriod;
  }
}
