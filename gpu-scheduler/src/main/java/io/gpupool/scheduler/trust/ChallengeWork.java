package io.gpupool.scheduler.trust;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 *   <li>digest_r = the first 8 bytes of SHA-256 of C = A·B as little-endian int32, row-major, in
 *       hex.
 * </ul>
 *
 * <p>Entries in {-1, 0, 1} keep every product entry within ±n, exact in FP16 for n ≤ 2048 and in
 * any accumulation order, so honest GPUs of any kind give identical digests.
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

  /** The 16-hex-digit digest of round {@code round}'s product. */
  public static String roundDigest(Challenge c, int round) {
    int[] product = product(c, round);
    ByteBuffer bytes = ByteBuffer.allocate(product.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : product) {
      bytes.putInt(v);
    }
    return HexFormat.of().formatHex(sha256(bytes.array()), 0, 8);
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
