package io.gpupool.scheduler.trust;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * One hardware challenge: a fresh nonce and the size of the work it seeds. The node multiplies
 * {@code rounds} pairs of {@code size × size} matrices derived from the nonce ({@link
 * ChallengeWork}) and reports one digest per product; the operator recomputes a few rounds of its
 * own choosing ({@link ChallengeCheck}) and times the whole ({@link TimingModel}).
 *
 * @param nonce 32 lowercase hex digits (128 bits), fresh for every challenge
 * @param size side of the square matrices (entries in {-1, 0, 1}, so every product entry is exact
 *     in FP16 up to {@value #MAX_SIZE})
 * @param rounds number of products, 1..{@value #MAX_COMMITTED_ROUNDS}; a challenge answered in the
 *     termination message has at most {@value #MAX_ANSWERED_ROUNDS} ({@link Answering})
 */
public record Challenge(String nonce, int size, int rounds) {
  public static final int MAX_SIZE = 2048;

  /** One 16-hex-digit digest a round fits a pod's termination message (4096 bytes) up to this. */
  public static final int MAX_ANSWERED_ROUNDS = 240;

  /**
   * The most rounds of a committed challenge: 2²⁶, 512 MiB of digests on the node. At {@code size}
   * 1024 that keeps eight H100s busy for 45 s at 40 % of their datasheet rate (docs/trust.md).
   */
  public static final int MAX_COMMITTED_ROUNDS = 1 << 26;

  private static final Pattern NONCE = Pattern.compile("[0-9a-f]{32}");

  public Challenge {
    if (nonce == null || !NONCE.matcher(nonce).matches()) {
      throw new IllegalArgumentException("nonce must be 32 lowercase hex digits: " + nonce);
    }
    if (size < 8 || size > MAX_SIZE) {
      throw new IllegalArgumentException("challenge size must be 8.." + MAX_SIZE + ", was " + size);
    }
    if (rounds < 1 || rounds > MAX_COMMITTED_ROUNDS) {
      throw new IllegalArgumentException(
          "challenge rounds must be 1.." + MAX_COMMITTED_ROUNDS + ", was " + rounds);
    }
  }

  /** A challenge with a nonce nobody could have predicted. */
  public static Challenge fresh(SecureRandom random, int size, int rounds) {
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    return new Challenge(HexFormat.of().formatHex(nonce), size, rounds);
  }

  /** Floating-point operations of the whole challenge (2·n³ per product). */
  public double flops() {
    return 2.0 * size * size * (double) size * rounds;
  }
}
