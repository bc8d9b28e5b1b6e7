package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
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
    assertThatThrownBy(() -> new Challenge(FIXED.nonce(), 64, 241)).hasMessageContaining("1..240");
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

  static final String PINNED_ANSWER = "8b3d38d23a895410b17e35bb9dba99bc508a0bfbe2772d99";
}
