package io.gpupool.sandbox.dcgm;

import java.util.Map;

/**
 * What NVML would report for a GFD product name: the device name dcgm-exporter puts in {@code
 * modelName}, the board power limit and the maximum SM clock. GFD builds its product label from the
 * NVML name (spaces become dashes), which cannot be inverted in general, hence the table; unknown
 * products fall back to dashes read as spaces and middle-of-the-road figures.
 */
final class GpuModels {
  /** NVML name, power limit in W, max SM clock in MHz. */
  record Model(String nvmlName, double powerLimitWatts, int maxSmClockMhz) {}

  private static final Map<String, Model> BY_PRODUCT =
      Map.of(
          "NVIDIA-GeForce-RTX-4090", new Model("NVIDIA GeForce RTX 4090", 450, 2520),
          "NVIDIA-GeForce-RTX-3090", new Model("NVIDIA GeForce RTX 3090", 350, 1695),
          "NVIDIA-A100-SXM4-80GB", new Model("NVIDIA A100-SXM4-80GB", 400, 1410),
          "NVIDIA-A100-SXM4-40GB", new Model("NVIDIA A100-SXM4-40GB", 400, 1410),
          "NVIDIA-A100-80GB-PCIe", new Model("NVIDIA A100 80GB PCIe", 300, 1410),
          "NVIDIA-H100-80GB-HBM3", new Model("NVIDIA H100 80GB HBM3", 700, 1980),
          "NVIDIA-L4", new Model("NVIDIA L4", 72, 2040));

  private GpuModels() {}

  /** The model behind a GFD product label value ({@code -SHARED} suffix ignored). */
  static Model of(String product) {
    String base =
        product.endsWith("-SHARED") ? product.substring(0, product.length() - 7) : product;
    Model known = BY_PRODUCT.get(base);
    return known != null ? known : new Model(base.replace('-', ' '), 300, 1500);
  }
}
