package io.gpupool.operator.billing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PodLifetime;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON of the figures kept in usage ConfigMaps. Amounts are decimal strings (wei exceed a JSON
 * number's safe range); instants are ISO-8601.
 */
public final class UsageCodec {
  private static final ObjectMapper JSON = new ObjectMapper();

  private UsageCodec() {}

  /** ConfigMap data key of a pair (payer and provider are lower-case hex, valid key characters). */
  public static String pairKey(PairId pair) {
    return "pair." + pair.payer() + "." + pair.provider();
  }

  /**
   * ConfigMap data key of the forfeit mark of a job's usage on one provider (by its address,
   * normalised like a {@link PairId}'s, so the mark and the pairs it concerns always match).
   */
  public static String forfeitKey(String providerAddress) {
    return "forfeit." + PairId.normaliseAddress(providerAddress, "provider");
  }

  /**
   * ConfigMap data key of the terms fixed for a pod at placement (pod names are DNS labels or
   * subdomains: valid key characters).
   */
  public static String termsKey(String podName) {
    return "terms." + podName;
  }

  /**
   * ConfigMap data key marking the terms of a pod as rebuilt by the operator when it adopted the
   * pod (placed by an operator that recorded none), not recorded at placement.
   */
  public static String adoptedKey(String podName) {
    return "adopted." + podName;
  }

  /** True when {@code data} holds terms recorded at placement (not rebuilt on adoption). */
  static boolean holdsPlacedTerms(Map<String, String> data) {
    String prefix = termsKey("");
    return data.keySet().stream()
        .filter(k -> k.startsWith(prefix))
        .anyMatch(k -> !data.containsKey(adoptedKey(k.substring(prefix.length()))));
  }

  /** ConfigMap data key of a pod record. */
  public static String podKey(String podUid) {
    return "pod." + podUid;
  }

  public static String encode(PairLedger l) {
    ObjectNode n = JSON.createObjectNode();
    n.put("jobId", l.pair().jobId());
    n.put("payer", l.pair().payer());
    n.put("provider", l.pair().provider());
    n.put("milliGpuMillis", l.milliGpuMillis());
    n.put("meteredWei", l.meteredWei().toString());
    n.put("settledWei", l.settledWei().toString());
    n.put("chainOwedWei", l.chainOwedWei().toString());
    if (l.inFlightTx() != null) {
      n.put("inFlightTx", l.inFlightTx());
    }
    if (l.setAside() != null) {
      n.put("setAside", l.setAside());
    }
    return n.toString();
  }

  public static PairLedger decodePair(String json) {
    JsonNode n = read(json);
    PairId pair = new PairId(text(n, "jobId"), text(n, "payer"), text(n, "provider"));
    return new PairLedger(
        pair,
        n.path("milliGpuMillis").asLong(),
        new BigInteger(text(n, "meteredWei")),
        new BigInteger(text(n, "settledWei")),
        new BigInteger(text(n, "chainOwedWei")),
        n.hasNonNull("inFlightTx") ? n.get("inFlightTx").asText() : null,
        n.hasNonNull("setAside") ? n.get("setAside").asText() : null);
  }

  public static String encode(PodRecord r) {
    PodLifetime p = r.lifetime();
    ObjectNode n = JSON.createObjectNode();
    n.put("podUid", p.podUid());
    n.put("jobId", p.pair().jobId());
    n.put("payer", p.pair().payer());
    n.put("provider", p.pair().provider());
    n.put("providerName", r.providerName());
    if (r.node() != null) {
      n.put("node", r.node());
    }
    n.put("start", p.start().toString());
    if (p.end() != null) {
      n.put("end", p.end().toString());
    }
    n.put("ended", r.ended());
    n.put("milliGpus", p.milliGpus());
    n.put("priceWeiPerGpuHour", p.priceWeiPerGpuHour().toString());
    return n.toString();
  }

  public static String encode(PlacedTerms t) {
    ObjectNode n = JSON.createObjectNode();
    n.put("node", t.node());
    n.put("provider", t.provider());
    n.put("priceWeiPerGpuHour", t.terms().priceWeiPerGpuHour().toString());
    n.put("milliGpus", t.terms().milliGpus());
    return n.toString();
  }

  public static PlacedTerms decodeTerms(String json) {
    JsonNode n = read(json);
    return new PlacedTerms(
        text(n, "node"),
        n.path("provider").asText(""),
        new PlacementTerms(
            new BigInteger(text(n, "priceWeiPerGpuHour")), n.path("milliGpus").asLong()));
  }

  public static PodRecord decodePod(String json) {
    JsonNode n = read(json);
    PairId pair = new PairId(text(n, "jobId"), text(n, "payer"), text(n, "provider"));
    PodLifetime p =
        new PodLifetime(
            text(n, "podUid"),
            pair,
            Instant.parse(text(n, "start")),
            n.hasNonNull("end") ? Instant.parse(n.get("end").asText()) : null,
            n.path("milliGpus").asLong(),
            new BigInteger(text(n, "priceWeiPerGpuHour")));
    return new PodRecord(
        p,
        text(n, "providerName"),
        n.hasNonNull("node") ? n.get("node").asText() : null,
        n.path("ended").asBoolean());
  }

  /** JSON of a persisted settlement transaction (raw bytes, hashes and what it reports). */
  public static String encode(OutboxEntry e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("nonce", e.nonce());
    n.put("state", e.state().name());
    n.put("txHash", e.txHash());
    n.put("rawTx", e.rawTx());
    n.put("gasPriceWei", e.gasPriceWei().toString());
    n.put("attempt", e.attempt());
    ArrayNode earlier = n.putArray("earlierHashes");
    e.earlierHashes().forEach(earlier::add);
    ArrayNode items = n.putArray("items");
    for (SettlementItem item : e.items()) {
      ObjectNode i = items.addObject();
      i.put("jobId", item.pair().jobId());
      i.put("payer", item.pair().payer());
      i.put("provider", item.pair().provider());
      i.put("cumulativeWei", item.cumulativeWei().toString());
    }
    n.put("createdAt", e.createdAt().toString());
    n.put("sentAt", e.sentAt().toString());
    if (e.call() != null) {
      n.put("call", e.call());
    }
    return n.toString();
  }

  public static OutboxEntry decodeOutbox(String json) {
    JsonNode n = read(json);
    List<String> earlier = new ArrayList<>();
    n.path("earlierHashes").forEach(h -> earlier.add(h.asText()));
    List<SettlementItem> items = new ArrayList<>();
    for (JsonNode i : n.path("items")) {
      items.add(
          new SettlementItem(
              new PairId(text(i, "jobId"), text(i, "payer"), text(i, "provider")),
              new BigInteger(text(i, "cumulativeWei"))));
    }
    return new OutboxEntry(
        Long.parseLong(text(n, "nonce")),
        OutboxEntry.State.valueOf(text(n, "state")),
        text(n, "txHash"),
        text(n, "rawTx"),
        new BigInteger(text(n, "gasPriceWei")),
        n.path("attempt").asInt(),
        earlier,
        items,
        Instant.parse(text(n, "createdAt")),
        Instant.parse(text(n, "sentAt")),
        n.hasNonNull("call") ? n.get("call").asText() : null);
  }

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("unreadable usage record", e);
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("usage record lacks " + field);
    }
    return v.asText();
  }
}
