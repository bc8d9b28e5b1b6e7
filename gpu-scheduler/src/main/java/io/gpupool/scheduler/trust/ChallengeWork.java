package io.gpupool.scheduler.trust;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The computation a challenge asks for, defined exactly so that the node's program
 * (examples/workloads/challenge.py), the sandbox's simulated kubelet and the operator's checker
 * agree bit for bit:
 *
 * <ul>
 *   <li>seed = the first 8 bytes of SHA-256(nonce bytes), big-endian;
 *   <li>round r's seed s_r = mix(seed + (r + 1)·G);
 *   <li>entry e of round r (A's n² entries row-major, then B's) = floorMod(mix(s_r + (e + 1)·G), 3)
 *       − 1, where mix is SplitMix64's finaliser and G = 0x9E3779B97F4A7C15 (64-bit wrapping);
 *   <li>digest_r = the product's fingerprint Σ_i Σ_j w_i · w_{n+j} · (C_ij + 2049)² over C = A·B,
 *       exact in int64, as 16 hex digits, where weight t of round r (t in [0, 2n)) is (mix(mix(s_r)
 *       + (t + 1)·G) &gt;&gt;&gt; 56) + 1, in 1..256.
 * </ul>
 *
 * <p>Entries in {-1, 0, 1} keep every product entry within ±n, exact in FP16 for n ≤ 2048 and in
 * any accumulation order, so honest GPUs of any kind give identical digests.
 *
 * <p>Why this fingerprint: it must cost the node far less than the product (SHA-256 over the 1 MiB
 * of a 512² product cost thousands of times the product on a fast GPU), touch every entry, and not
 * be computable without the product. A linear projection u·C·v or a sample of entries fails the
 * last (u·A then B·v, or the sampled entries alone, cost n² or k·n, Freivalds' shortcut); the
 * squares make it a quadratic form in C, which needs AᵀDA (n³) however it is rearranged. It costs
 * about 5 integer operations per entry (n² against the product's 2n³), and the offset keeps a
 * flipped sign from hiding (a changed entry alters the sum unless it moves out of ±n). Bounded by
 * 256² · 4097² · 2048² &lt; 2⁶³, it never overflows.
 */
public final class ChallengeWork {
  static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private ChallengeWork() {}

  /** SplitMix64's output function. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static long seed(Challenge c) {
    byte[] hash = sha256(HexFormat.of().parseHex(c.nonce()));
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }

  static long roundSeed(Challenge c, int round) {
    return mix(seed(c) + (round + 1L) * GOLDEN);
  }

  /** Round {@code round}'s two matrices, row-major: A is [0, n²), B is [n², 2n²). */
  static byte[] inputs(Challenge c, int round) {
    long s = roundSeed(c, round);
    int n = c.size();
    byte[] out = new byte[2 * n * n];
    for (int e = 0; e < out.length; e++) {
      out[e] = (byte) (Math.floorMod(mix(s + (e + 1L) * GOLDEN), 3) - 1);
    }
    return out;
  }

  /** The product of round {@code round}, row-major. */
  static int[] product(Challenge c, int round) {
    int n = c.size();
    byte[] in = inputs(c, round);
    int[] out = new int[n * n];
    int b0 = n * n;
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        int a = in[i * n + k];
        if (a == 0) {
          continue;
        }
        int bRow = b0 + k * n;
        int cRow = i * n;
        for (int j = 0; j < n; j++) {
          out[cRow + j] += a * in[bRow + j];
        }
      }
    }
    return out;
  }

  /** The 16-hex-digit digest of round {@code round}'s product: its fingerprint. */
  public static String roundDigest(Challenge c, int round) {
    return String.format("%016x", fingerprint(c, round, product(c, round)));
  }

  /** Added to every product entry before squaring: keeps a flipped sign from going unseen. */
  static final long OFFSET = Challenge.MAX_SIZE + 1L;

  /** Round {@code round}'s 2n fingerprint weights in 1..256: rows [0, n), columns [n, 2n). */
  static long[] weights(Challenge c, int round) {
    long w = mix(roundSeed(c, round));
    long[] out = new long[2 * c.size()];
    for (int t = 0; t < out.length; t++) {
      out[t] = (mix(w + (t + 1L) * GOLDEN) >>> 56) + 1;
    }
    return out;
  }

  /** Σ_i w_i Σ_j w_{n+j} (C_ij + OFFSET)² of {@code product}, exact (below 2⁶³ for n ≤ 2048). */
  static long fingerprint(Challenge c, int round, int[] product) {
    long[] w = weights(c, round);
    int n = c.size();
    long sum = 0;
    for (int i = 0; i < n; i++) {
      long row = 0;
      for (int j = 0; j < n; j++) {
        long u = product[i * n + j] + OFFSET;
        row += w[n + j] * u * u;
      }
      sum += w[i] * row;
    }
    return sum;
  }

  /** The honest answer: every round's digest, in order, concatenated. */
  public static String answer(Challenge c) {
    StringBuilder b = new StringBuilder(c.rounds() * ChallengeCheck.DIGEST_HEX);
    for (int r = 0; r < c.rounds(); r++) {
      b.append(roundDigest(c, r));
    }
    return b.toString();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
