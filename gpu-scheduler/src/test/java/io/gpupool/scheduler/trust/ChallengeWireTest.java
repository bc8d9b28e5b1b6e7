package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChallengeWireTest {
  static final Challenge C = new Challenge("0123456789abcdef0123456789abcdef", 16, 37);

  private static List<String> digests() {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < C.rounds(); r++) {
      out.add(ChallengeWork.roundDigest(C, r));
    }
    return out;
  }

  @Test
  void aCommitmentAndItsOpeningsSurviveTheWire() {
    List<String> d = digests();
    String root = DigestTree.root(d);
    assertThat(ChallengeWire.parseCommitment(ChallengeWire.commitment(root, d.size())))
        .contains(new ChallengeWire.Committed(root, 37));
    List<Long> asked = List.of(0L, 36L, 17L);
    assertThat(ChallengeWire.parseQuery(ChallengeWire.query(asked))).contains(asked);
    List<DigestTree.Opening> sent = asked.stream().map(p -> DigestTree.open(d, p)).toList();
    List<DigestTree.Opening> got = ChallengeWire.parseOpenings(ChallengeWire.openings(sent));
    assertThat(got).isEqualTo(sent);
    got.forEach(o -> assertThat(DigestTree.verifies(root, 37, o)).isTrue());
  }

  @Test
  void aOneLeafTreeOpensWithAnEmptyPath() {
    List<String> d = List.of(ChallengeWork.roundDigest(C, 0));
    DigestTree.Opening only = DigestTree.open(d, 0);
    assertThat(ChallengeWire.openings(List.of(only))).endsWith(" -\n");
    assertThat(ChallengeWire.parseOpenings(ChallengeWire.openings(List.of(only))))
        .containsExactly(only);
  }

  @Test
  void malformedInputIsEmptyNeverAnException() {
    assertThat(ChallengeWire.parseCommitment(null)).isEmpty();
    assertThat(ChallengeWire.parseCommitment("abc 3")).isEmpty();
    assertThat(ChallengeWire.parseCommitment("a".repeat(64) + " 0")).isEmpty();
    assertThat(ChallengeWire.parseCommitment("a".repeat(64) + " x")).isEmpty();
    assertThat(ChallengeWire.parseQuery("leaves=1,-2")).isEmpty();
    assertThat(ChallengeWire.parseQuery("positions=1")).isEmpty();
    assertThat(ChallengeWire.parseQuery("leaves=1,a")).isEmpty();
    String hash = "b".repeat(64);
    assertThat(
            ChallengeWire.parseOpenings(
                "x 0123456789abcdef "
                    + hash
                    + "\n3 0123 "
                    + hash
                    + "\n4 0123456789abcdef zz\n5 0123456789abcdef "
                    + hash
                    + "\n"))
        .extracting(DigestTree.Opening::index)
        .containsExactly(5L);
  }
}
