package io.gpupool.operator.verification;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.StepDistance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads what a verifier or referee pod reported (the JSON after "GPUPOOL-VERIFICATION " in its log
 * or its termination message; the contract is in docs/workloads.md, "Commitments").
 */
public final class VerifierOutput {
  /** The marker that starts the result line in a pod's log. */
  public static final String MARKER = "GPUPOOL-VERIFICATION ";

  private static final ObjectMapper JSON = new ObjectMapper();

  private VerifierOutput() {}

  /** A referee's recomputation of one step of one rank. */
  public record RefereeResult(
      long step, int rank, long fromStep, double toProvider, double toVerifier) {}

  /** The last result line in a pod's log, if it printed one. */
  public static Optional<String> resultLine(String log) {
    int at = log.lastIndexOf(MARKER);
    if (at < 0) {
      return Optional.empty();
    }
    int end = log.indexOf('\n', at);
    return Optional.of(log.substring(at + MARKER.length(), end < 0 ? log.length() : end).trim());
  }

  /**
   * A verifier's replay of one interval, per global rank.
   *
   * @throws IllegalArgumentException when the text is not a verifier's result
   */
  public static Map<Integer, IntervalReport> interval(String json) {
    JsonNode root = read(json);
    long from = requiredLong(root, "from");
    long to = requiredLong(root, "to");
    JsonNode ranks = root.path("ranks");
    if (!ranks.isObject()) {
      throw new IllegalArgumentException("verifier result without ranks: " + abbreviate(json));
    }
    Map<Integer, IntervalReport> out = new TreeMap<>();
    var fields = ranks.fields();
    while (fields.hasNext()) {
      var e = fields.next();
      int rank = parseRank(e.getKey());
      List<StepDistance> distances = new ArrayList<>();
      for (JsonNode pair : e.getValue().path("distances")) {
        if (!pair.isArray() || pair.size() != 2) {
          throw new IllegalArgumentException("a distance is not [step, distance]: " + pair);
        }
        distances.add(new StepDistance(pair.get(0).asLong(), number(pair.get(1))));
      }
      boolean intact = e.getValue().path("intact").asBoolean(false);
      out.put(rank, new IntervalReport(from, to, distances, intact));
    }
    return out;
  }

  /** A referee's result. */
  public static RefereeResult referee(String json) {
    JsonNode root = read(json);
    return new RefereeResult(
        requiredLong(root, "step"),
        (int) requiredLong(root, "rank"),
        requiredLong(root, "from"),
        number(root.path("toProvider")),
        number(root.path("toVerifier")));
  }

  /** The digest the provider committed for the step a referee recomputed, when it reported it. */
  public static Optional<String> committedDigest(String json) {
    JsonNode n = read(json).path("committed");
    return n.isTextual() && n.asText().matches("[0-9a-f]{64}")
        ? Optional.of(n.asText())
        : Optional.empty();
  }

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON: " + abbreviate(json), e);
    }
  }

  private static long requiredLong(JsonNode root, String field) {
    JsonNode n = root.path(field);
    if (!n.canConvertToLong()) {
      throw new IllegalArgumentException("result without a numeric " + field);
    }
    return n.asLong();
  }

  /** Python writes non-finite distances as the string "Infinity"; anything unreadable is too. */
  private static double number(JsonNode n) {
    if (n.isNumber()) {
      return n.asDouble();
    }
    return Double.POSITIVE_INFINITY;
  }

  private static int parseRank(String key) {
    try {
      return Integer.parseInt(key);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("rank " + key + " is not a number");
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
