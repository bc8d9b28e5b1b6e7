package io.gpupool.scheduler.model;

import java.util.EnumMap;
import java.util.Map;

/**
 * Bandwidth and latency by locality. The defaults assume a community pool (gpu-catalog.md,
 * "Networks"): PCIe inside a node, a 10 Gb/s LAN inside a zone, 1 Gb/s inside a region and the 100
 * Mb/s, 100 ms link Petals assumes when it cannot measure, across regions.
 */
public final class LinkModel {
  /**
   * One link class.
   *
   * @param bandwidthGBs gigabytes per second
   * @param latencySeconds one-way latency in seconds
   */
  public record Link(double bandwidthGBs, double latencySeconds) {
    public Link {
      if (bandwidthGBs <= 0 || latencySeconds < 0) {
        throw new IllegalArgumentException("bandwidth must be > 0 and latency >= 0");
      }
    }

    /** Seconds to move {@code bytes} once over this link. */
    public double transferSeconds(double bytes) {
      return latencySeconds + bytes / (bandwidthGBs * 1e9);
    }
  }

  private final Map<Locality, Link> links;

  private LinkModel(Map<Locality, Link> links) {
    this.links = new EnumMap<>(links);
  }

  /** The defaults described above. */
  public static LinkModel defaults() {
    Map<Locality, Link> m = new EnumMap<>(Locality.class);
    m.put(Locality.SAME_NODE, new Link(25, 0.00001));
    m.put(Locality.SAME_ZONE, new Link(1.25, 0.0005));
    m.put(Locality.SAME_REGION, new Link(0.125, 0.010));
    m.put(Locality.CROSS_REGION, new Link(0.0125, 0.100));
    return new LinkModel(m);
  }

  /** A copy with one locality's link replaced (for configuration). */
  public LinkModel with(Locality locality, Link link) {
    Map<Locality, Link> m = new EnumMap<>(links);
    m.put(locality, link);
    return new LinkModel(m);
  }

  public Link link(Locality locality) {
    return links.get(locality);
  }

  public Link between(PoolNode a, PoolNode b) {
    return links.get(Locality.between(a, b));
  }
}
