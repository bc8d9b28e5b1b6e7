package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DigestTreeTest {
  private static List<String> digests(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.format("%016x", random.nextLong()));
    }
    return out;
  }

  @Test
  void everyLeafOfTreesOfEveryShapeOpensToTheRoot() {
    for (int n = 1; n <= 33; n++) {
      List<String> d = digests(n, n);
      String root = DigestTree.root(d);
      for (int i = 0; i < n; i++) {
        DigestTree.Opening o = DigestTree.open(d, i);
        assertThat(DigestTree.verifies(root, n, o)).as("leaf %d of %d", i, n).isTrue();
        assertThat(o.path().size() + 1).isLessThanOrEqualTo(DigestTree.hashesPerOpening(n));
      }
    }
  }

  @Test
  void aChangedDigestOrPathDoesNotLeadToTheRoot() {
    List<String> d = digests(240, 7);
    String root = DigestTree.root(d);
    DigestTree.Opening honest = DigestTree.open(d, 97);

    DigestTree.Opening otherDigest = new DigestTree.Opening(97, "0123456789abcdef", honest.path());
    assertThat(DigestTree.verifies(root, 240, otherDigest)).isFalse();

    List<String> path = new ArrayList<>(honest.path());
    byte[] flipped = HexFormat.of().parseHex(path.get(3));
    flipped[0] ^= 1;
    path.set(3, HexFormat.of().formatHex(flipped));
    assertThat(DigestTree.verifies(root, 240, new DigestTree.Opening(97, honest.digest(), path)))
        .isFalse();
    assertThat(
            DigestTree.verifies(
                root, 240, new DigestTree.Opening(97, honest.digest(), path.subList(0, 4))))
        .as("a short path")
        .isFalse();
    assertThat(
            DigestTree.verifies(
                root, 240, new DigestTree.Opening(97, honest.digest(), List.of("zz"))))
        .as("garbage")
        .isFalse();
  }

  @Test
  void aDigestCannotBeOpenedAtAnotherPosition() {
    List<String> d = digests(64, 3);
    d.set(5, d.get(4)); // the same digest at two places
    String root = DigestTree.root(d);
    DigestTree.Opening at4 = DigestTree.open(d, 4);
    assertThat(DigestTree.verifies(root, 64, new DigestTree.Opening(5, at4.digest(), at4.path())))
        .isFalse();
    assertThat(DigestTree.verifies(root, 64, DigestTree.open(d, 5))).isTrue();
  }

  @Test
  void anotherTreeSizeOrRootDoesNotVerify() {
    List<String> d = digests(100, 11);
    DigestTree.Opening o = DigestTree.open(d, 99);
    assertThat(DigestTree.verifies(DigestTree.root(d), 101, o)).isFalse();
    assertThat(DigestTree.verifies(DigestTree.root(digests(100, 12)), 100, o)).isFalse();
  }

  @Test
  void theRootIsPinnedAndTheChallengeProgramComputesTheSame() {
    // examples/workloads/challenge.py --self-test prints this root after the pinned digests.
    String pinned = ChallengeWorkTest.PINNED_ANSWER;
    List<String> d =
        List.of(pinned.substring(0, 16), pinned.substring(16, 32), pinned.substring(32));
    assertThat(DigestTree.root(d))
        .isEqualTo("b90fb0d03e3fa0be2cbc90edf75e94f17158930a852d9f3be8c50d1cf397df7f");
  }

  @Test
  void verifyingCostsALeafAndOneHashPerLevel() {
    assertThat(DigestTree.hashesPerOpening(1)).isEqualTo(1);
    assertThat(DigestTree.hashesPerOpening(240)).isEqualTo(9);
    // 66 million products (45 s of an H100 at size 512): 27 hashes per opened leaf.
    assertThat(DigestTree.hashesPerOpening(66_000_000)).isEqualTo(27);
  }
}
