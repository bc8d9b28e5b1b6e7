package io.gpupool.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * Every operator setting in one place, each with its default. Set them as {@code gpupool.*}
 * properties or {@code GPUPOOL_*} environment variables (the Helm chart writes the latter).
 */
@ConfigMapping(prefix = "gpupool")
public interface GpupoolConfig {

  /** Node settings. */
  Nodes nodes();

  /** Event settings. */
  Events events();

  /** Planner settings. */
  Planner planner();

  /** Tunables of the placement planner (gpu-scheduler). */
  interface Planner {
    /**
     * Model FLOPs utilisation: the share of a GPU's datasheet rate a real job reaches. Scales every
     * time estimate; it does not change which plan wins between similar jobs.
     */
    @WithDefault("0.4")
    double mfu();
  }

  /** How Nodes are read and when a lost node costs a job its ranks. */
  interface Nodes {
    /**
     * How long a node may be NotReady before its ranks are re-placed; short blips on home links
     * should not restart a gang.
     */
    @WithDefault("60s")
    Duration lostGracePeriod();

    /** Informer resync period for Nodes; a safety net, not the normal update path. */
    @WithDefault("10m")
    Duration resyncPeriod();
  }

  /** Kubernetes Events the operator records for its decisions. */
  interface Events {
    /** Record Events at all (turn off only to reduce API load in very large benchmarks). */
    @WithDefault("true")
    boolean enabled();

    /** Component name events are reported from. */
    @WithDefault("gpupool-operator")
    String component();
  }
}
