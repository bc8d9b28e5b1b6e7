package io.gpupool.scheduler.trust;

import java.util.regex.Pattern;

/**
 * The challenge program's rate on one GPU product, measured by the pool's operator with {@code
 * challenge.py --bench SIZE} on one node of that product: rounds of {@code size}-sided products per
 * second per GPU, from the seed to the committed root. On a GPU the program is bound by the memory
 * bandwidth its input generation needs, not by the tensor cores, so this rate does not follow the
 * catalog's TFLOP/s (docs/trust.md, "Hardware challenges"); a measured one times the product's
 * challenges instead.
 *
 * @param product the product as GPU Feature Discovery labels it ({@code NVIDIA-H100-80GB-HBM3}:
 *     letters, digits, '-', '_', '.'); matched with and without the {@code NVIDIA-} prefix and a
 *     {@code -SHARED} suffix, as the catalog matches it
 * @param size side of the challenge's matrices it was measured at (a rate holds for one size only)
 * @param roundsPerSecond rounds per second per GPU, finite and above 0
 */
public record MeasuredRate(String product, int size, double roundsPerSecond) {
  private static final Pattern PRODUCT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  public MeasuredRate {
    if (product == null || !PRODUCT.matcher(product).matches()) {
      throw new IllegalArgumentException(
          "product must be a GPU product as GFD labels it (letters, digits, '-', '_', '.'), was '"
              + product
              + "'");
    }
    if (size < 8 || size > Challenge.MAX_SIZE) {
      throw new IllegalArgumentException(
          "size of "
              + product
              + " must be a challenge size, 8.."
              + Challenge.MAX_SIZE
              + ", was "
              + size);
    }
    if (!(roundsPerSecond > 0) || Double.isInfinite(roundsPerSecond)) {
      throw new IllegalArgumentException(
          "rounds per second of " + product + " must be a number above 0, was " + roundsPerSecond);
    }
  }
}
