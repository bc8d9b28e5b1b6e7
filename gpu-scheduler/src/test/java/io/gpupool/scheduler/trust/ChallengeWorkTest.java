package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChallengeWorkTest {
  static final Challenge FIXED = new Challenge("00112233445566778899aabbccddeeff", 16, 3);

  @Test
  void freshChallengesHaveUnpredictableNonces() {
    SecureRandom random = new SecureRandom();
    Set<String> nonces = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      nonces.add(Challenge.fresh(random, 64, 8).nonce());
    }
    assertThat(nonces).hasSize(100);
  }

  @Test
  void badParametersAreRefusedWithTheirRange() {
    assertThatThrownBy(() -> new Challenge("xyz", 64, 8)).hasMessageContaining("32 lowercase hex");
    assertThatThrownBy(() -> new Challenge(FIXED.nonce(), 4, 8)).hasMessageContaining("8..2048");
    assertThatThrownBy(() -> new Challenge(FIXED.nonce(), 64, 0))
        .hasMessageContaining("1..67108864");
  }

  @Test
  void inputsAreBalancedTernaryAndDifferPerRound() {
    Challenge c = new Challenge(FIXED.nonce(), 64, 2);
    byte[] r0 = ChallengeWork.inputs(c, 0);
    byte[] r1 = ChallengeWork.inputs(c, 1);
    int[] counts = new int[3];
    for (byte b : r0) {
      assertThat((int) b).isBetween(-1, 1);
      counts[b + 1]++;
    }
    // 8192 draws: each value near a third (a broken generator gives all-equal or two values).
    for (int count : counts) {
      assertThat(count).isBetween(2400, 3060);
    }
    assertThat(r1).isNotEqualTo(r0);
  }

  @Test
  void productMatchesAPlainTripleLoop() {
    Challenge c = new Challenge(FIXED.nonce(), 24, 1);
    byte[] in = ChallengeWork.inputs(c, 0);
    int n = c.size();
    int[] product = ChallengeWork.product(c, 0);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        int sum = 0;
        for (int k = 0; k < n; k++) {
          sum += in[i * n + k] * in[n * n + k * n + j];
        }
        assertThat(product[i * n + j]).isEqualTo(sum);
      }
    }
  }

  @Test
  void digestsAreFixedByTheNonceAlone() {
    // Pinned: examples/workloads/challenge.py --self-test prints the same digests, so the GPU
    // program and the operator's checker agree bit for bit.
    assertThat(ChallengeWork.answer(FIXED)).isEqualTo(PINNED_ANSWER);
    Challenge other = new Challenge("ffeeddccbbaa99887766554433221100", 16, 3);
    assertThat(ChallengeWork.answer(other)).isNotEqualTo(PINNED_ANSWER);
  }

  @Test
  void everyChangedEntryOfAProductChangesItsFingerprintEvenAFlippedSign() {
    // A digest must depend on every entry: a node that computed part of a product, or got one entry
    // wrong, must not keep the honest digest. Squares alone would hide a flipped sign (C → −C).
    Challenge c = new Challenge(FIXED.nonce(), 24, 1);
    int[] product = ChallengeWork.product(c, 0);
    long honest = ChallengeWork.fingerprint(c, 0, product);
    for (int e = 0; e < product.length; e++) {
      for (int changed : new int[] {product[e] + 1, product[e] - 1, product[e] + 2, -product[e]}) {
        if (changed == product[e]) {
          continue; // a zero entry's sign flip is no change
        }
        int[] wrong = Arrays.copyOf(product, product.length);
        wrong[e] = changed;
        assertThat(ChallengeWork.fingerprint(c, 0, wrong))
            .as("entry %d → %d", e, changed)
            .isNotEqualTo(honest);
      }
    }
  }

  @Test
  void theFingerprintIsExactAtTheLargestSizeWithTheLargestEntries() {
    // No overflow: every entry at ±2048 (the extreme a 2048² product of ±1 entries reaches).
    Challenge c = new Challenge(FIXED.nonce(), Challenge.MAX_SIZE, 1);
    int n = c.size();
    int[] extreme = new int[n * n];
    Arrays.fill(extreme, n);
    long[] w = ChallengeWork.weights(c, 0);
    BigInteger exact = BigInteger.ZERO;
    BigInteger u2 = BigInteger.valueOf(n + ChallengeWork.OFFSET).pow(2);
    BigInteger columns = BigInteger.ZERO;
    for (int j = 0; j < n; j++) {
      columns = columns.add(BigInteger.valueOf(w[n + j]));
    }
    for (int i = 0; i < n; i++) {
      exact = exact.add(BigInteger.valueOf(w[i]).multiply(columns).multiply(u2));
    }
    assertThat(exact.bitLength()).isLessThan(64);
    assertThat(ChallengeWork.fingerprint(c, 0, extreme)).isEqualTo(exact.longValueExact());
    for (long weight : w) {
      assertThat(weight).isBetween(1L, 256L);
    }
  }

  static final String PINNED_ANSWER = "00000c7396014608000013a55714ceec00000ffc2d38c3cb";
}
