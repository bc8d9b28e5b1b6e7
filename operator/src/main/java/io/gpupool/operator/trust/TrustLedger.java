package io.gpupool.operator.trust;

import io.gpupool.api.v1alpha1.ChallengeRecord;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.PassedNode;
import io.gpupool.api.v1alpha1.QuarantinedNode;
import io.gpupool.api.v1alpha1.SpeedCorrectedNode;
import io.gpupool.operator.inventory.SpeedRatings;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What hardware challenges have shown: per node, its last verdict and whether it is quarantined (no
 * new work); per provider, how many challenges passed and failed. A verdict holds for the product
 * the node claimed when challenged: relabelling a node is a new claim, challenged afresh.
 *
 * <p>Verdicts live in memory and in GpuProvider status: quarantines ({@code
 * status.challenges.quarantined}), passes with the time of each node's next random challenge
 * ({@code passedNodes}) and ratings ({@code speedCorrected}). A restarted operator {@link #restore
 * restores} them before it places or challenges anything, so a node that cheated stays out of
 * placement instead of getting a fresh chance to answer honestly, and a node that passed keeps its
 * pass and its schedule instead of being challenged again with every other node at once. Counts are
 * seeded from the same status.
 *
 * <p>A node that answered correctly but slower than its claim ({@link Outcome#SLOWER}) is not
 * quarantined: it is rated at the share of the claimed speed measured, kept in status ({@code
 * status.challenges.speedCorrected}) and in {@link SpeedRatings}, which the planner and billing
 * read, until a challenge in time for the claimed product restores it.
 */
@ApplicationScoped
public class TrustLedger {
  private final Map<String, NodeTrust> nodes = new HashMap<>();
  private final Map<String, ChallengeRecord> providers = new HashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Quarantined> workFraud = new HashMap<>();
  private final List<Spent> restoredSpend = new ArrayList<>();
  private final SpeedRatings speeds;

  /** A ledger whose speed ratings nobody else reads (tests). */
  public TrustLedger() {
    this(new SpeedRatings());
  }

  @Inject
  public TrustLedger(SpeedRatings speeds) {
    this.speeds = speeds;
  }

  /** One node's standing. */
  private static final class NodeTrust {
    String provider;
    String product;
    Outcome outcome;
    String message;
    Instant at;
    Instant nextDue;
    double gpuSeconds;
    double speedFactor = 1.0;
    String ratedMessage;
    Instant ratedSince;
  }

  /** GPU time a challenge held, ending at {@code at}: what the challenge budget counts. */
  public record Spent(Instant at, double gpuSeconds) {}

  /**
   * A node left out of placement, and why.
   *
   * @param after what caught it, for the Unschedulable message ("a failed hardware challenge")
   */
  public record Quarantined(
      String node, String provider, String product, String reason, String after) {}

  private static final String AFTER_CHALLENGE = "a failed hardware challenge";
  private static final String AFTER_WORK = "wrong paid work";
  private static final String WRONG_WORK = "WrongWork";

  /**
   * Starts a provider's counts and quarantined nodes from what its status recorded, unless already
   * tracked. A node this operator judged itself keeps its own verdict.
   */
  public synchronized void seed(String provider, ChallengeRecord recorded) {
    if (recorded == null || providers.containsKey(provider)) {
      return;
    }
    ChallengeRecord copy = new ChallengeRecord();
    copy.passed = recorded.passed;
    copy.failed = recorded.failed;
    copy.lastChallengeTime = recorded.lastChallengeTime;
    providers.put(provider, copy);
    seedPasses(provider, recorded);
    seedRatings(provider, recorded);
    if (recorded.quarantined == null) {
      return;
    }
    for (QuarantinedNode q : recorded.quarantined) {
      if (WRONG_WORK.equals(q.outcome) && q.node != null && !workFraud.containsKey(q.node)) {
        workFraud.put(
            q.node,
            new Quarantined(
                q.node, provider, q.product, q.message == null ? "" : q.message, AFTER_WORK));
        continue;
      }
      Outcome outcome = outcome(q.outcome);
      if (q.node == null || q.product == null || outcome == null || nodes.containsKey(q.node)) {
        continue;
      }
      NodeTrust t = new NodeTrust();
      t.provider = provider;
      t.product = q.product;
      t.outcome = outcome;
      t.message = q.message == null ? "" : q.message;
      t.at = since(q.since);
      nodes.put(q.node, t);
    }
  }

  /** Nodes whose last challenge passed, from status, with their pass time and next challenge. */
  private void seedPasses(String provider, ChallengeRecord recorded) {
    if (recorded.passedNodes == null) {
      return;
    }
    for (PassedNode p : recorded.passedNodes) {
      if (p.node == null || p.product == null || nodes.containsKey(p.node)) {
        continue;
      }
      NodeTrust t = new NodeTrust();
      t.provider = provider;
      t.product = p.product;
      t.outcome = Outcome.PASSED;
      t.message = "passed its last hardware challenge";
      t.at = since(p.since);
      // Without a readable schedule, due now: still a random re-check within the budget, not a
      // joining challenge outside it.
      Instant next = since(p.nextChallengeTime);
      t.nextDue = next == null ? Instant.EPOCH : next;
      t.gpuSeconds = p.gpuSeconds == null || !(p.gpuSeconds > 0) ? 0 : p.gpuSeconds;
      nodes.put(p.node, t);
      if (t.at != null && t.gpuSeconds > 0) {
        restoredSpend.add(new Spent(t.at, t.gpuSeconds));
      }
    }
  }

  /**
   * GPU time of challenges restored from status since the last call: a restarted runner counts it
   * against its budget, so a restart does not grant a fresh hour of random challenges.
   */
  public synchronized List<Spent> takeRestoredSpend() {
    List<Spent> out = List.copyOf(restoredSpend);
    restoredSpend.clear();
    return out;
  }

  /** Nodes rated below their claim, from status: restored before the quarantines are. */
  private void seedRatings(String provider, ChallengeRecord recorded) {
    if (recorded.speedCorrected == null) {
      return;
    }
    for (SpeedCorrectedNode r : recorded.speedCorrected) {
      if (r.node == null
          || r.product == null
          || r.speedFactor == null
          || !(r.speedFactor > 0)
          || r.speedFactor >= 1
          || nodes.containsKey(r.node)) {
        continue;
      }
      NodeTrust t = new NodeTrust();
      t.provider = provider;
      t.product = r.product;
      t.outcome = Outcome.SLOWER;
      t.message = r.message == null ? "" : r.message;
      t.at = since(r.since);
      // Challenged again when the budget allows, judged against its rating: a restart neither
      // forgets the correction nor makes it permanent.
      t.nextDue = Instant.EPOCH;
      t.speedFactor = r.speedFactor;
      t.ratedMessage = t.message;
      t.ratedSince = t.at;
      nodes.put(r.node, t);
      speeds.rate(r.node, r.product, r.speedFactor);
    }
  }

  /**
   * Seeds every provider not tracked yet from its status (see {@link #seed}). Placement and the
   * challenge runner call it once the providers have been read, before they act on any node.
   */
  public void restore(Collection<GpuProvider> all) {
    for (GpuProvider p : all) {
      if (p.getStatus() != null && p.getStatus().challenges != null) {
        seed(p.getMetadata().getName(), p.getStatus().challenges);
      }
    }
  }

  /**
   * True when {@code node} claiming {@code product} has never been challenged for that claim, or
   * was and passed and its next random challenge is due. Quarantined nodes wait for a new claim.
   */
  public synchronized boolean due(String node, String product, Instant now) {
    NodeTrust t = nodes.get(node);
    if (t == null || !t.product.equals(product)) {
      return true;
    }
    return !quarantines(t.outcome) && t.nextDue != null && !now.isBefore(t.nextDue);
  }

  /** True when the node's claim has not been challenged yet (it joined or was relabelled). */
  public synchronized boolean unchallenged(String node, String product) {
    NodeTrust t = nodes.get(node);
    return t == null || !t.product.equals(product);
  }

  /** Records a verdict; {@code nextIn} is when a passing node is challenged next. */
  public void record(
      String node,
      String provider,
      String product,
      ChallengeVerdict verdict,
      Instant now,
      Duration nextIn) {
    record(node, provider, product, verdict, now, nextIn, 0);
  }

  /**
   * Records a verdict; {@code nextIn} is when a passing node is challenged next, {@code gpuSeconds}
   * the GPU time the challenge held (kept with a pass for the budget of a restarted operator).
   */
  public void record(
      String node,
      String provider,
      String product,
      ChallengeVerdict verdict,
      Instant now,
      Duration nextIn,
      double gpuSeconds) {
    synchronized (this) {
      NodeTrust t = nodes.computeIfAbsent(node, n -> new NodeTrust());
      t.provider = provider;
      t.product = product;
      t.outcome = verdict.outcome();
      t.message = verdict.message();
      t.at = now;
      t.nextDue = now.plus(nextIn);
      t.gpuSeconds = gpuSeconds;
      double factor = quarantines(verdict.outcome()) ? 1.0 : verdict.speedFactor();
      if (factor < 1 && (t.speedFactor != factor || t.ratedSince == null)) {
        t.ratedMessage = verdict.message();
        t.ratedSince = now;
      }
      t.speedFactor = factor;
      speeds.rate(node, product, factor);
      ChallengeRecord counts = providers.computeIfAbsent(provider, p -> new ChallengeRecord());
      if (verdict.outcome() == Outcome.PASSED) {
        counts.passed = (counts.passed == null ? 0 : counts.passed) + 1;
      } else {
        counts.failed = (counts.failed == null ? 0 : counts.failed) + 1;
      }
      counts.lastChallengeTime = now.toString();
    }
    listeners.forEach(l -> l.accept(provider));
  }

  /** Retries a node soon without a verdict (its challenge pod vanished or could not start). */
  public synchronized void postpone(String node, String provider, String product, Instant until) {
    NodeTrust t = nodes.get(node);
    if (t != null && t.product.equals(product)) {
      t.nextDue = until;
    }
  }

  /**
   * The share of its claimed speed {@code node} claiming {@code product} is rated at: below 1 once
   * a challenge measured it slower than the claim, 1 otherwise.
   */
  public synchronized double speedFactor(String node, String product) {
    NodeTrust t = nodes.get(node);
    return t == null || !t.product.equals(product) || quarantines(t.outcome) ? 1.0 : t.speedFactor;
  }

  /** Nodes (name → claimed product) rated below their claim, with their speed factor. */
  public synchronized Map<String, Double> speedFactors(Map<String, String> claimedProducts) {
    Map<String, Double> out = new TreeMap<>();
    claimedProducts.forEach(
        (node, product) -> {
          NodeTrust t = nodes.get(node);
          if (t != null && t.product.equals(product) && !quarantines(t.outcome)) {
            if (t.speedFactor < 1) {
              out.put(node, t.speedFactor);
            }
          }
        });
    return out;
  }

  /** Forgets a node that left the pool. */
  public synchronized void forget(String node) {
    speeds.forget(node);
    nodes.remove(node);
    workFraud.remove(node);
  }

  /**
   * Quarantines a node whose paid work was found wrong (an inference replica disagreeing with the
   * other providers' canaries). Unlike a challenge verdict it does not end with a new product
   * claim: relabelling does not make the work right.
   */
  public void quarantineForWork(String node, String provider, String product, String reason) {
    synchronized (this) {
      workFraud.put(node, new Quarantined(node, provider, product, reason, AFTER_WORK));
    }
    listeners.forEach(l -> l.accept(provider));
  }

  /** Quarantined nodes by name, for placement (nodes whose claim changed since are not). */
  public synchronized Map<String, Quarantined> quarantined(Map<String, String> claimedProducts) {
    Map<String, Quarantined> out = new TreeMap<>();
    workFraud.forEach(
        (name, q) -> {
          if (claimedProducts.containsKey(name)) {
            out.put(name, q);
          }
        });
    nodes.forEach(
        (name, t) -> {
          if (quarantines(t.outcome) && t.product.equals(claimedProducts.get(name))) {
            out.put(
                name,
                new Quarantined(name, t.provider, t.product, shortReason(t), AFTER_CHALLENGE));
          }
        });
    return out;
  }

  /**
   * The provider's counts and quarantined nodes as its status shows them (null before any challenge
   * or quarantine).
   */
  public synchronized ChallengeRecord counts(String provider) {
    ChallengeRecord c = providers.get(provider);
    if (c == null && workFraud.values().stream().noneMatch(w -> provider.equals(w.provider()))) {
      return null;
    }
    if (c == null) {
      c = new ChallengeRecord();
    }
    ChallengeRecord copy = new ChallengeRecord();
    copy.passed = c.passed == null ? 0 : c.passed;
    copy.failed = c.failed == null ? 0 : c.failed;
    copy.lastChallengeTime = c.lastChallengeTime;
    List<QuarantinedNode> quarantined = new ArrayList<>();
    new TreeMap<>(nodes)
        .forEach(
            (name, t) -> {
              if (provider.equals(t.provider) && quarantines(t.outcome)) {
                QuarantinedNode q = new QuarantinedNode();
                q.node = name;
                q.product = t.product;
                q.outcome = OUTCOME_NAMES.get(t.outcome);
                q.message = t.message;
                q.since = t.at == null ? null : t.at.toString();
                quarantined.add(q);
              }
            });
    new TreeMap<>(workFraud)
        .forEach(
            (name, w) -> {
              if (provider.equals(w.provider())) {
                QuarantinedNode q = new QuarantinedNode();
                q.node = name;
                q.product = w.product();
                q.outcome = WRONG_WORK;
                q.message = w.reason();
                quarantined.add(q);
              }
            });
    copy.quarantined = quarantined.isEmpty() ? null : quarantined;
    List<SpeedCorrectedNode> corrected = new ArrayList<>();
    new TreeMap<>(nodes)
        .forEach(
            (name, t) -> {
              if (provider.equals(t.provider) && !quarantines(t.outcome) && t.speedFactor < 1) {
                SpeedCorrectedNode r = new SpeedCorrectedNode();
                r.node = name;
                r.product = t.product;
                r.speedFactor = t.speedFactor;
                r.message = t.ratedMessage;
                r.since = t.ratedSince == null ? null : t.ratedSince.toString();
                corrected.add(r);
              }
            });
    copy.speedCorrected = corrected.isEmpty() ? null : corrected;
    List<PassedNode> passes = new ArrayList<>();
    new TreeMap<>(nodes)
        .forEach(
            (name, t) -> {
              if (provider.equals(t.provider)
                  && t.outcome == Outcome.PASSED
                  && t.speedFactor >= 1
                  && !workFraud.containsKey(name)) {
                PassedNode p = new PassedNode();
                p.node = name;
                p.product = t.product;
                p.since = t.at == null ? null : t.at.toString();
                p.nextChallengeTime = t.nextDue == null ? null : t.nextDue.toString();
                p.gpuSeconds = t.gpuSeconds > 0 ? Math.ceil(t.gpuSeconds * 10) / 10 : null;
                passes.add(p);
              }
            });
    copy.passedNodes = passes.isEmpty() ? null : passes;
    return copy;
  }

  /**
   * The Verified condition of a provider whose nodes (name → claimed product) are {@code nodes}:
   * False while any is quarantined, True once every challenged one passed, NotYetChallenged before
   * any verdict.
   */
  public synchronized VerifiedState verified(Map<String, String> nodesOfProvider) {
    List<String> failed = new ArrayList<>();
    List<String> corrected = new ArrayList<>();
    int passed = 0;
    for (var e : new TreeMap<>(nodesOfProvider).entrySet()) {
      NodeTrust t = nodes.get(e.getKey());
      if (t == null || t.outcome == null || !t.product.equals(e.getValue())) {
        continue;
      }
      if (quarantines(t.outcome)) {
        failed.add(e.getKey() + " (" + t.message + ")");
        continue;
      }
      passed++;
      if (t.speedFactor < 1) {
        corrected.add(
            String.format(
                Locale.ROOT, "%s at %.0f %% of %s", e.getKey(), t.speedFactor * 100, t.product));
      }
    }
    int total = nodesOfProvider.size();
    if (!failed.isEmpty()) {
      return new VerifiedState(
          "False",
          "ChallengeFailed",
          failed.size()
              + " of "
              + total
              + " nodes quarantined, no new work: "
              + String.join("; ", failed));
    }
    if (!corrected.isEmpty()) {
      return new VerifiedState(
          "True",
          "SpeedCorrected",
          passed
              + " of "
              + total
              + " nodes answered their last hardware challenge correctly; "
              + corrected.size()
              + " slower than their labels claim, planned and priced at the speed measured: "
              + String.join("; ", corrected));
    }
    if (passed == 0) {
      return new VerifiedState(
          "Unknown", "NotYetChallenged", "none of " + total + " nodes challenged yet");
    }
    return new VerifiedState(
        "True",
        "ChallengePassed",
        passed + " of " + total + " nodes passed their last hardware challenge");
  }

  /** A condition's status, reason and message. */
  public record VerifiedState(String status, String reason, String message) {}

  /** Tells {@code listener} the provider whose standing changed. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  /** Quarantined nodes per provider (for the gauge). */
  public synchronized Map<String, Integer> quarantinedByProvider() {
    Map<String, Integer> out = new TreeMap<>();
    nodes.entrySet().stream()
        .filter(e -> quarantines(e.getValue().outcome))
        .filter(e -> !workFraud.containsKey(e.getKey()))
        .forEach(e -> out.merge(e.getValue().provider, 1, Integer::sum));
    workFraud.values().forEach(q -> out.merge(q.provider(), 1, Integer::sum));
    return out;
  }

  /** Every provider with counts. */
  public synchronized Collection<String> providers() {
    return List.copyOf(providers.keySet());
  }

  private static final Map<Outcome, String> OUTCOME_NAMES =
      Map.of(Outcome.WRONG_RESULT, "WrongResult", Outcome.TOO_SLOW, "TooSlow");

  /** True for the outcomes that keep a node out of placement. */
  private static boolean quarantines(Outcome o) {
    return o == Outcome.WRONG_RESULT || o == Outcome.TOO_SLOW;
  }

  private static Outcome outcome(String name) {
    for (var e : OUTCOME_NAMES.entrySet()) {
      if (e.getValue().equals(name)) {
        return e.getKey();
      }
    }
    return null;
  }

  private static Instant since(String rfc3339) {
    try {
      return rfc3339 == null ? null : Instant.parse(rfc3339);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String shortReason(NodeTrust t) {
    return t.outcome == Outcome.WRONG_RESULT
        ? "wrong challenge result"
        : "challenge too slow for " + t.product;
  }
}
