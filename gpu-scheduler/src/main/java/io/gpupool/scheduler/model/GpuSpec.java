package io.gpupool.scheduler.model;

/**
 * Datasheet figures of one GPU model.
 *
 * @param product normalised GFD product name (no {@code NVIDIA-} prefix, no suffixes)
 * @param family GFD family, e.g. {@code ampere}, {@code ada-lovelace}, {@code hopper}
 * @param memoryMib memory per GPU in MiB
 * @param denseTflops dense BF16/FP16 tensor TFLOP/s (FP32 accumulate for GeForce cards)
 * @param bandwidthGBs memory bandwidth in GB/s
 * @param estimated true when the figures are a conservative guess for an unknown model
 */
public record GpuSpec(
    String product,
    String family,
    long memoryMib,
    double denseTflops,
    double bandwidthGBs,
    boolean estimated) {

  public GpuSpec {
    if (memoryMib <= 0 || denseTflops <= 0 || bandwidthGBs <= 0) {
      throw new IllegalArgumentException("GPU figures must be positive: " + product);
    }
  }
}
