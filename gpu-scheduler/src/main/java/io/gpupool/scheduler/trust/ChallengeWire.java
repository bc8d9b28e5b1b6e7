package io.gpupool.scheduler.trust;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the challenge program (examples/workloads/challenge.py, or the sandbox's simulated kubelet)
 * and the operator say to each other in a commit-then-open challenge, over plain HTTP on the pod's
 * IP and {@link ChallengeEnv#PORT}:
 *
 * <ul>
 *   <li>{@code GET /commitment}: 503 while the products are computed; then {@code <root> <leaves>},
 *       the {@link DigestTree} root over every product's digest. Its arrival is the answer's time
 *       on the operator's clock.
 *   <li>{@code GET /openings?leaves=3,17,42}: one line per asked leaf, {@code <index> <digest>
 *       <sibling>,<sibling>,…} ({@code -} for an empty path), as {@link DigestTree#open} gives it.
 *       The positions are drawn by the operator after the root arrived ({@link LeafOpenings}).
 * </ul>
 *
 * Text, so that a person can follow a challenge with curl. Parsing never throws: anything malformed
 * is empty, and the operator then finds the leaves it asked for not opened.
 */
public final class ChallengeWire {
  public static final String COMMITMENT_PATH = "/commitment";
  public static final String OPENINGS_PATH = "/openings";
  public static final String LEAVES_PARAM = "leaves";

  /** More than any challenge's openings need: a node cannot make the operator read without end. */
  public static final int MAX_BODY_BYTES = 1 << 20;

  private static final Pattern ROOT = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{16}");
  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");

  private ChallengeWire() {}

  /** A commitment as the node sends it. */
  public record Committed(String root, long leaves) {}

  public static String commitment(String root, long leaves) {
    return root + " " + leaves + "\n";
  }

  /** The commitment in {@code body}; empty when it is not a 64-hex-digit root and a count. */
  public static Optional<Committed> parseCommitment(String body) {
    String[] parts = body == null ? new String[0] : body.trim().split("\\s+");
    if (parts.length != 2 || !ROOT.matcher(parts[0]).matches()) {
      return Optional.empty();
    }
    try {
      long leaves = Long.parseLong(parts[1]);
      return leaves > 0 ? Optional.of(new Committed(parts[0], leaves)) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The query string asking for {@code positions}. */
  public static String query(List<Long> positions) {
    StringBuilder b = new StringBuilder(LEAVES_PARAM).append('=');
    for (int i = 0; i < positions.size(); i++) {
      b.append(i == 0 ? "" : ",").append(positions.get(i));
    }
    return b.toString();
  }

  /** The positions a query asks for; empty when malformed. */
  public static Optional<List<Long>> parseQuery(String query) {
    if (query == null || !query.startsWith(LEAVES_PARAM + "=")) {
      return Optional.empty();
    }
    List<Long> out = new ArrayList<>();
    try {
      for (String p : query.substring(LEAVES_PARAM.length() + 1).split(",")) {
        long v = Long.parseLong(p.trim());
        if (v < 0) {
          return Optional.empty();
        }
        out.add(v);
      }
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return Optional.of(out);
  }

  /** The openings' body, one line each. */
  public static String openings(List<DigestTree.Opening> openings) {
    StringBuilder b = new StringBuilder();
    for (DigestTree.Opening o : openings) {
      b.append(o.index())
          .append(' ')
          .append(o.digest())
          .append(' ')
          .append(o.path().isEmpty() ? "-" : String.join(",", o.path()))
          .append('\n');
    }
    return b.toString();
  }

  /** The well-formed openings in {@code body}; a malformed line is left out (not opened). */
  public static List<DigestTree.Opening> parseOpenings(String body) {
    List<DigestTree.Opening> out = new ArrayList<>();
    if (body == null) {
      return out;
    }
    for (String line : body.split("\n")) {
      String[] parts = line.trim().split(" ");
      if (parts.length != 3 || !DIGEST.matcher(parts[1]).matches()) {
        continue;
      }
      try {
        long index = Long.parseLong(parts[0]);
        List<String> path = parts[2].equals("-") ? List.of() : Arrays.asList(parts[2].split(","));
        if (index >= 0 && path.stream().allMatch(h -> HASH.matcher(h).matches())) {
          out.add(new DigestTree.Opening(index, parts[1], path));
        }
      } catch (NumberFormatException e) {
        // not an index: the leaf counts as not opened
      }
    }
    return out;
  }
}
