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

  /**
   * These figures for a GPU measured at {@code factor} of them (a hardware challenge found it
   * slower than its labels claim). Bandwidth is scaled too: a GPU that computes like a smaller
   * product is in practice that smaller product, and the planner should not expect the claimed
   * one's memory speed from it either. Memory size is not scaled: the planner's placement on it is
   * checked by the pods themselves.
   */
  public GpuSpec atSpeed(double factor) {
    if (factor == 1.0) {
      return this;
    }
    if (!(factor > 0) || factor > 1) {
      throw new IllegalArgumentException("speed factor must be in (0, 1], was " + factor);
    }
    return new GpuSpec(
        product, family, memoryMib, denseTflops * factor, bandwidthGBs * factor, estimated);
  }
}
