package io.gpupool.scheduler.model;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps GPU Feature Discovery {@code nvidia.com/gpu.product} values to datasheet figures.
 *
 * <p>Names are matched with and without the {@code NVIDIA-} prefix and with any {@code -SHARED} or
 * {@code -MIG-<profile>} suffix removed. Entries can be registered or overridden at run time (the
 * operator feeds its configuration here). Unknown models get a conservative estimate from their
 * memory and family.
 */
public final class GpuCatalog {
  private final Map<String, GpuSpec> specs = new ConcurrentHashMap<>();

  /** An empty catalog; see {@link #defaults()}. */
  public GpuCatalog() {}

  /** The catalog with the figures of gpu-catalog.md. */
  public static GpuCatalog defaults() {
    GpuCatalog c = new GpuCatalog();
    c.put("GeForce-RTX-3090", "ampere", 24, 71, 936);
    c.put("GeForce-RTX-4090", "ada-lovelace", 24, 165.2, 1008);
    c.put("RTX-A6000", "ampere", 48, 155, 768);
    c.put("L4", "ada-lovelace", 24, 121, 300);
    c.put("L40S", "ada-lovelace", 48, 362, 864);
    c.put("A10", "ampere", 24, 125, 600);
    c.put("A100-SXM4-40GB", "ampere", 40, 312, 1555);
    c.put("A100-PCIE-40GB", "ampere", 40, 312, 1555);
    c.put("A100-SXM4-80GB", "ampere", 80, 312, 2039);
    c.put("A100-80GB-PCIe", "ampere", 80, 312, 1935);
    c.put("H100-80GB-HBM3", "hopper", 80, 989, 3350);
    c.put("H100-PCIe", "hopper", 80, 756, 2000);
    c.put("H200", "hopper", 141, 989, 4800);
    c.put("Tesla-T4", "turing", 16, 65, 320);
    c.put("Tesla-V100-SXM2-16GB", "volta", 16, 125, 900);
    c.put("Tesla-V100-SXM2-32GB", "volta", 32, 125, 900);
    c.put("Tesla-V100-PCIE-16GB", "volta", 16, 112, 900);
    c.put("Tesla-V100-PCIE-32GB", "volta", 32, 112, 900);
    c.put("Tesla-P100-PCIE-16GB", "pascal", 16, 18.7, 732);
    c.put("Tesla-P100-SXM2-16GB", "pascal", 16, 21.2, 732);
    return c;
  }

  private void put(String product, String family, long gb, double tflops, double bw) {
    register(product, new GpuSpec(product, family, gb * 1024, tflops, bw, false));
  }

  /** Registers or overrides the figures for a product (any accepted spelling). */
  public void register(String product, GpuSpec spec) {
    specs.put(key(product), spec);
  }

  /** The product name without {@code NVIDIA-} prefix, {@code -SHARED} and {@code -MIG-...}. */
  public static String normalize(String product) {
    String p = product.trim().replace(' ', '-');
    if (p.regionMatches(true, 0, "NVIDIA-", 0, 7)) {
      p = p.substring(7);
    }
    int mig = p.toUpperCase(Locale.ROOT).indexOf("-MIG-");
    if (mig >= 0) {
      p = p.substring(0, mig);
    }
    if (p.toUpperCase(Locale.ROOT).endsWith("-SHARED")) {
      p = p.substring(0, p.length() - 7);
    }
    return p;
  }

  private static String key(String product) {
    return normalize(product).toLowerCase(Locale.ROOT);
  }

  /** True when the product has datasheet figures (registered or built in). */
  public boolean knows(String product) {
    return specs.containsKey(key(product));
  }

  /**
   * The figures for a product; unknown products get an estimate from {@code memoryMib} and {@code
   * family} (either may be unknown: 0 / null).
   */
  public GpuSpec lookup(String product, long memoryMib, String family) {
    GpuSpec s = specs.get(key(product));
    if (s != null) {
      return s;
    }
    return estimate(normalize(product), memoryMib, family);
  }

  /**
   * A conservative estimate: the slowest known card of the family (per-family floor), memory as
   * reported, bandwidth of that floor card.
   */
  static GpuSpec estimate(String product, long memoryMib, String family) {
    String f = family == null ? "" : family.toLowerCase(Locale.ROOT);
    double tflops;
    double bw;
    switch (f) {
      case "hopper" -> {
        tflops = 756;
        bw = 2000;
      }
      case "ada-lovelace", "ada" -> {
        tflops = 121;
        bw = 300;
      }
      case "ampere" -> {
        tflops = 71;
        bw = 600;
      }
      case "turing" -> {
        tflops = 65;
        bw = 320;
      }
      case "volta" -> {
        tflops = 112;
        bw = 900;
      }
      case "blackwell" -> {
        tflops = 756;
        bw = 2000;
      }
      default -> {
        tflops = 18.7;
        bw = 300;
      }
    }
    long mem = memoryMib > 0 ? memoryMib : 8 * 1024;
    return new GpuSpec(product, f.isEmpty() ? "unknown" : f, mem, tflops, bw, true);
  }
}
