package io.gpupool.scheduler.trust;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The commit-then-open check of a challenge whose work is too large to recompute: the node first
 * commits to every product's digest with a {@link DigestTree} root; only then does the operator
 * draw the positions it wants opened, as HMAC-SHA256(secret, nonce ‖ root ‖ k). The positions
 * depend on the root (so they cannot be known before it) and on a secret only the operator holds
 * (so the node cannot compute them after committing either); the node must open them within a short
 * window, too short to compute skipped products then. The operator recomputes one product per
 * opened leaf: a node that skipped a share p of the products escapes with probability (1 −
 * p)^samples, whatever the number of products.
 */
public final class LeafOpenings {
  private static final Pattern ROOT = Pattern.compile("[0-9a-f]{64}");

  private LeafOpenings() {}

  /**
   * A node's commitment.
   *
   * @param root the {@link DigestTree} root over every product's digest, 64 hex digits
   * @param leaves how many products it covers
   * @param at when the operator received it (its own clock)
   */
  public record Commitment(String root, long leaves, Instant at) {
    public Commitment {
      Objects.requireNonNull(root, "root");
      Objects.requireNonNull(at, "at");
    }
  }

  /**
   * The positions the operator asks the node to open.
   *
   * @param root the root the positions were drawn from
   * @param positions distinct leaf positions, in the order drawn
   * @param asked when the request was sent (operator clock): the opening window starts there
   */
  public record Request(String root, List<Long> positions, Instant asked) {
    public Request {
      positions = List.copyOf(positions);
    }
  }

  /**
   * Draws {@code samples} distinct positions (every leaf when there are fewer) for {@code
   * commitment}, asked at {@code now}.
   *
   * @param secret the operator's key, never shown to nodes
   */
  public static Request draw(
      byte[] secret, Challenge challenge, Commitment commitment, int samples, Instant now) {
    return new Request(commitment.root(), positions(secret, challenge, commitment, samples), now);
  }

  /**
   * Empty when the openings prove the committed work right; otherwise what is wrong, in words fit
   * for an event. Checked in this order: the commitment is well formed and covers the challenge's
   * products; the request was drawn from this very root (positions chosen before the root, or for
   * another one, prove nothing); the openings came within {@code window} of the request; every
   * requested position is opened, on a path to the root; each opened digest is the product the
   * operator recomputes.
   */
  public static Optional<String> problem(
      byte[] secret,
      Challenge challenge,
      Commitment commitment,
      Request request,
      List<DigestTree.Opening> openings,
      Instant openedAt,
      Duration window) {
    return check(secret, challenge, commitment, request, openings, openedAt, window)
        .map(Problem::message);
  }

  /**
   * What is wrong with a node's openings, and whether it is a wrong result (an opened leaf whose
   * digest is not the product's) or a failed opening (anything else: malformed, unrooted, late,
   * missing, positions not drawn from the root). Both are fraud evidence: a node that committed a
   * root and cannot open it where asked either committed digests it never computed or will not show
   * them.
   */
  public record Problem(boolean wrongResult, String message) {}

  /** As {@link #problem}, telling a wrong result from a failed opening. */
  public static Optional<Problem> check(
      byte[] secret,
      Challenge challenge,
      Commitment commitment,
      Request request,
      List<DigestTree.Opening> openings,
      Instant openedAt,
      Duration window) {
    if (!ROOT.matcher(commitment.root()).matches()) {
      return failed("malformed commitment: the root is not 64 hex digits");
    }
    if (commitment.leaves() != challenge.rounds()) {
      return failed(
          "the commitment covers "
              + commitment.leaves()
              + " products, the challenge asked for "
              + challenge.rounds());
    }
    if (!commitment.root().equals(request.root())
        || request.asked().isBefore(commitment.at())
        || !request
            .positions()
            .equals(positions(secret, challenge, commitment, request.positions().size()))) {
      return failed(
          "the positions opened were not drawn from the committed root after it arrived: they"
              + " prove nothing");
    }
    Duration took = Duration.between(request.asked(), openedAt);
    if (took.compareTo(window) > 0 || took.isNegative()) {
      return failed(
          String.format(
              Locale.ROOT,
              "late opening: %.1f s after the request, %.1f s allowed",
              took.toMillis() / 1000.0,
              window.toMillis() / 1000.0));
    }
    Map<Long, DigestTree.Opening> byIndex = new TreeMap<>();
    for (DigestTree.Opening o : openings) {
      byIndex.putIfAbsent(o.index(), o);
    }
    for (long position : request.positions()) {
      DigestTree.Opening o = byIndex.get(position);
      if (o == null) {
        return failed("leaf " + position + " was asked for and not opened");
      }
      if (!DigestTree.verifies(commitment.root(), commitment.leaves(), o)) {
        return failed(
            "leaf " + position + " does not lead to the committed root " + shortRoot(commitment));
      }
      String expected = ChallengeWork.roundDigest(challenge, (int) position);
      if (!expected.equals(o.digest())) {
        return Optional.of(
            new Problem(
                true,
                "wrong result: leaf "
                    + position
                    + " of "
                    + commitment.leaves()
                    + " commits digest "
                    + o.digest()
                    + ", the product is "
                    + expected));
      }
    }
    return Optional.empty();
  }

  private static Optional<Problem> failed(String message) {
    return Optional.of(new Problem(false, message));
  }

  private static String shortRoot(Commitment c) {
    return c.root().substring(0, 16) + "…";
  }

  private static List<Long> positions(
      byte[] secret, Challenge challenge, Commitment commitment, int samples) {
    long leaves = commitment.leaves();
    int wanted = (int) Math.min(Math.max(1, samples), Math.max(1, leaves));
    Set<Long> out = new LinkedHashSet<>();
    Mac mac = mac(secret);
    byte[] prefix =
        (challenge.nonce() + ":" + commitment.root() + ":").getBytes(StandardCharsets.US_ASCII);
    for (long k = 0; out.size() < wanted; k++) {
      mac.update(prefix);
      byte[] h = mac.doFinal(ByteBuffer.allocate(8).putLong(k).array());
      long draw = ByteBuffer.wrap(h, 0, 8).getLong() >>> 1; // 63 uniform bits
      out.add(draw % leaves); // bias below leaves / 2^63: nothing a node can use
    }
    return new ArrayList<>(out);
  }

  private static Mac mac(byte[] secret) {
    if (secret == null || secret.length < 16) {
      throw new IllegalArgumentException("the opening secret must be at least 16 bytes");
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
