package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The commit-then-open protocol end to end on a small challenge: an honest node passes; a wrong
 * leaf, a root that does not match, a late opening, positions drawn before the root (or for another
 * one) all fail.
 */
class LeafOpeningsTest {
  static final byte[] SECRET = "the operator's secret, 32 bytes!".getBytes(StandardCharsets.UTF_8);
  static final Challenge CHALLENGE = new Challenge("0123456789abcdef0123456789abcdef", 16, 200);
  static final Instant T0 = Instant.parse("2026-12-06T20:00:00Z");
  static final Duration WINDOW = Duration.ofSeconds(2);

  private static List<String> honestDigests(Challenge c) {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < c.rounds(); r++) {
      out.add(ChallengeWork.roundDigest(c, r));
    }
    return out;
  }

  private static final List<String> HONEST = honestDigests(CHALLENGE);

  private static LeafOpenings.Commitment commit(List<String> digests) {
    return new LeafOpenings.Commitment(DigestTree.root(digests), digests.size(), T0);
  }

  private static List<DigestTree.Opening> open(List<String> digests, LeafOpenings.Request r) {
    return r.positions().stream().map(p -> DigestTree.open(digests, p)).toList();
  }

  private static java.util.Optional<String> check(
      LeafOpenings.Commitment c,
      LeafOpenings.Request r,
      List<DigestTree.Opening> openings,
      Instant at) {
    return LeafOpenings.problem(SECRET, CHALLENGE, c, r, openings, at, WINDOW);
  }

  @Test
  void anHonestNodeOpensWhatItWasAskedFor() {
    LeafOpenings.Commitment c = commit(HONEST);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 8, T0.plusMillis(10));
    assertThat(r.positions()).hasSize(8).doesNotHaveDuplicates();
    assertThat(check(c, r, open(HONEST, r), T0.plusSeconds(1))).isEmpty();
  }

  @Test
  void aWrongLeafIsAWrongResult() {
    LeafOpenings.Commitment honest = commit(HONEST);
    LeafOpenings.Request probe = LeafOpenings.draw(SECRET, CHALLENGE, honest, 4, T0);
    // A node that committed a made-up digest at a position the operator then asks for.
    List<String> forged = new ArrayList<>(HONEST);
    long asked = probe.positions().get(0);
    forged.set((int) asked, "00000000deadbeef");
    LeafOpenings.Commitment c = commit(forged);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 200, T0);
    assertThat(check(c, r, open(forged, r), T0.plusSeconds(1)))
        .get()
        .asString()
        .startsWith("wrong result: leaf " + asked + " of 200 commits digest 00000000deadbeef");
  }

  @Test
  void anOpeningThatDoesNotMatchTheRootFails() {
    LeafOpenings.Commitment c = commit(HONEST);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 4, T0);
    // Committed to one tree, opens another (say, computed honestly only once asked).
    List<String> other = new ArrayList<>(HONEST);
    other.set(0, "ffffffffffffffff");
    long opened = r.positions().get(0);
    if (opened == 0) {
      opened = r.positions().get(1);
    }
    long target = opened;
    List<DigestTree.Opening> openings =
        r.positions().stream()
            .map(p -> p == target ? DigestTree.open(other, p) : DigestTree.open(HONEST, p))
            .toList();
    assertThat(check(c, r, openings, T0.plusSeconds(1)))
        .get()
        .asString()
        .contains("does not lead to the committed root");
  }

  @Test
  void aLateOpeningFailsHoweverRight() {
    LeafOpenings.Commitment c = commit(HONEST);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 4, T0);
    assertThat(check(c, r, open(HONEST, r), T0.plus(WINDOW).plusMillis(1)))
        .get()
        .asString()
        .startsWith("late opening: 2.0 s after the request, 2.0 s allowed");
  }

  @Test
  void positionsChosenBeforeTheRootProveNothing() {
    LeafOpenings.Commitment c = commit(HONEST);
    // Positions drawn for a placeholder root, before the node's root arrived.
    LeafOpenings.Commitment early =
        new LeafOpenings.Commitment("0".repeat(64), HONEST.size(), T0.minusSeconds(1));
    LeafOpenings.Request before =
        LeafOpenings.draw(SECRET, CHALLENGE, early, 4, T0.minusSeconds(1));
    LeafOpenings.Request relabelled =
        new LeafOpenings.Request(c.root(), before.positions(), T0.plusMillis(1));
    assertThat(check(c, relabelled, open(HONEST, relabelled), T0.plusSeconds(1)))
        .get()
        .asString()
        .contains("not drawn from the committed root");
    // The right positions, but asked before the commitment arrived.
    LeafOpenings.Request right = LeafOpenings.draw(SECRET, CHALLENGE, c, 4, T0);
    LeafOpenings.Request askedEarly =
        new LeafOpenings.Request(c.root(), right.positions(), T0.minusMillis(1));
    assertThat(check(c, askedEarly, open(HONEST, askedEarly), T0.plusSeconds(1)))
        .get()
        .asString()
        .contains("not drawn from the committed root");
  }

  @Test
  void aNodeCannotPickTheLeavesItOpens() {
    LeafOpenings.Commitment c = commit(HONEST);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 4, T0);
    LeafOpenings.Request chosen = new LeafOpenings.Request(c.root(), List.of(0L, 1L, 2L, 3L), T0);
    assertThat(check(c, chosen, open(HONEST, chosen), T0.plusSeconds(1))).isPresent();
    // Another secret draws other positions: the node cannot compute them from the root alone.
    byte[] guess = new byte[32];
    new SecureRandom().nextBytes(guess);
    assertThat(LeafOpenings.draw(guess, CHALLENGE, c, 4, T0).positions())
        .isNotEqualTo(r.positions());
  }

  @Test
  void aMissingOpeningOrACommitmentOfTheWrongSizeFails() {
    LeafOpenings.Commitment c = commit(HONEST);
    LeafOpenings.Request r = LeafOpenings.draw(SECRET, CHALLENGE, c, 4, T0);
    assertThat(check(c, r, open(HONEST, r).subList(0, 3), T0.plusSeconds(1)))
        .get()
        .asString()
        .contains("was asked for and not opened");
    List<String> shorter = HONEST.subList(0, 199);
    LeafOpenings.Commitment small = commit(shorter);
    LeafOpenings.Request rs = LeafOpenings.draw(SECRET, CHALLENGE, small, 4, T0);
    assertThat(check(small, rs, open(shorter, rs), T0.plusSeconds(1)))
        .get()
        .asString()
        .contains("covers 199 products, the challenge asked for 200");
  }

  @Test
  void skippingHalfTheProductsIsCaughtAlmostAlwaysAtEightOpenings() {
    SecureRandom random = new SecureRandom();
    int caught = 0;
    int trials = 200;
    for (int t = 0; t < trials; t++) {
      Challenge ch = Challenge.fresh(random, 8, 64);
      List<String> digests = new ArrayList<>(honestDigests(ch));
      for (int i = 0; i < digests.size(); i += 2) {
        digests.set(i, "0000000000000000"); // every other product skipped
      }
      LeafOpenings.Commitment c =
          new LeafOpenings.Commitment(DigestTree.root(digests), digests.size(), T0);
      LeafOpenings.Request r = LeafOpenings.draw(SECRET, ch, c, 8, T0);
      if (LeafOpenings.problem(SECRET, ch, c, r, open(digests, r), T0, WINDOW).isPresent()) {
        caught++;
      }
    }
    // Escapes with probability 2^-8 per challenge: ≥ 190 of 200 caught except with odds < 1e-9.
    assertThat(caught).isGreaterThanOrEqualTo(190);
  }
}
