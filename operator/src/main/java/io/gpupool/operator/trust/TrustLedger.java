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
  private final Map<String, NodeStanding> nodes = new HashMap<>();
  private final Map<String, ChallengeRecord> providers = new HashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Quarantined> workFraud = new HashMap<>();
  private final List<Spent> restoredSpend = new ArrayList<>();
  private final SpeedRatings speeds;

  /**
   * Counts every change placement can see (a verdict, a quarantine, a seeded or forgotten node):
   * the pool view kept between placements is rebuilt when it moves.
   */
  private long version;

  /** A ledger whose speed ratings nobody else reads (tests). */
  public TrustLedger() {
    this(new SpeedRatings());
  }

  @Inject
  public TrustLedger(SpeedRatings speeds) {
    this.speeds = speeds;
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

  /**
   * Starts a provider's counts and quarantined nodes from what its status recorded, unless already
   * tracked. A node this operator judged itself keeps its own verdict.
   */
  public synchronized void seed(String provider, ChallengeRecord recorded) {
    if (recorded == null || providers.containsKey(provider)) {
      return;
    }
    version++;
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
      if (ChallengeStatus.WRONG_WORK.equals(q.outcome)
          && q.node != null
          && !workFraud.containsKey(q.node)) {
        workFraud.put(
            q.node,
            new Quarantined(
                q.node, provider, q.product, q.message == null ? "" : q.message, AFTER_WORK));
        continue;
      }
      if (q.node != null && !nodes.containsKey(q.node)) {
        ChallengeStatus.quarantined(provider, q).ifPresent(t -> nodes.put(q.node, t));
      }
    }
  }

  /** Nodes whose last challenge passed, from status, with their pass time and next challenge. */
  private void seedPasses(String provider, ChallengeRecord recorded) {
    if (recorded.passedNodes == null) {
      return;
    }
    for (PassedNode p : recorded.passedNodes) {
      if (p.node == null || nodes.containsKey(p.node)) {
        continue;
      }
      ChallengeStatus.passed(provider, p)
          .ifPresent(
              t -> {
                nodes.put(p.node, t);
                if (t.at != null && t.gpuSeconds > 0) {
                  restoredSpend.add(new Spent(t.at, t.gpuSeconds));
                }
              });
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
      if (r.node == null || nodes.containsKey(r.node)) {
        continue;
      }
      ChallengeStatus.rated(provider, r)
          .ifPresent(
              t -> {
                nodes.put(r.node, t);
                speeds.rate(r.node, t.product, t.speedFactor);
              });
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
    NodeStanding t = nodes.get(node);
    if (t == null || !t.product.equals(product)) {
      return true;
    }
    return !NodeStanding.quarantines(t.outcome) && t.nextDue != null && !now.isBefore(t.nextDue);
  }

  /** True when the node's claim has not been challenged yet (it joined or was relabelled). */
  public synchronized boolean unchallenged(String node, String product) {
    NodeStanding t = nodes.get(node);
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
      version++;
      NodeStanding t = nodes.computeIfAbsent(node, n -> new NodeStanding());
      t.provider = provider;
      t.product = product;
      t.outcome = verdict.outcome();
      t.message = verdict.message();
      t.at = now;
      t.nextDue = now.plus(nextIn);
      t.gpuSeconds = gpuSeconds;
      double factor = NodeStanding.quarantines(verdict.outcome()) ? 1.0 : verdict.speedFactor();
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
    NodeStanding t = nodes.get(node);
    if (t != null && t.product.equals(product)) {
      t.nextDue = until;
    }
  }

  /**
   * The share of its claimed speed {@code node} claiming {@code product} is rated at: below 1 once
   * a challenge measured it slower than the claim, 1 otherwise.
   */
  public synchronized double speedFactor(String node, String product) {
    NodeStanding t = nodes.get(node);
    return t == null || !t.product.equals(product) || NodeStanding.quarantines(t.outcome)
        ? 1.0
        : t.speedFactor;
  }

  /** Nodes (name → claimed product) rated below their claim, with their speed factor. */
  public synchronized Map<String, Double> speedFactors(Map<String, String> claimedProducts) {
    Map<String, Double> out = new TreeMap<>();
    claimedProducts.forEach(
        (node, product) -> {
          NodeStanding t = nodes.get(node);
          if (t != null && t.product.equals(product) && !NodeStanding.quarantines(t.outcome)) {
            if (t.speedFactor < 1) {
              out.put(node, t.speedFactor);
            }
          }
        });
    return out;
  }

  /** Forgets a node that left the pool. */
  public synchronized void forget(String node) {
    version++;
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
      version++;
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
          if (NodeStanding.quarantines(t.outcome) && t.product.equals(claimedProducts.get(name))) {
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
    return ChallengeStatus.record(provider, c, nodes, workFraud);
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
      NodeStanding t = nodes.get(e.getKey());
      if (t == null || t.outcome == null || !t.product.equals(e.getValue())) {
        continue;
      }
      if (NodeStanding.quarantines(t.outcome)) {
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

  /** Moves whenever a verdict, quarantine, seeded or forgotten node may change placement. */
  public synchronized long version() {
    return version;
  }

  /** Tells {@code listener} the provider whose standing changed. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  /** Quarantined nodes per provider (for the gauge). */
  public synchronized Map<String, Integer> quarantinedByProvider() {
    Map<String, Integer> out = new TreeMap<>();
    nodes.entrySet().stream()
        .filter(e -> NodeStanding.quarantines(e.getValue().outcome))
        .filter(e -> !workFraud.containsKey(e.getKey()))
        .forEach(e -> out.merge(e.getValue().provider, 1, Integer::sum));
    workFraud.values().forEach(q -> out.merge(q.provider(), 1, Integer::sum));
    return out;
  }

  /** Every provider with counts. */
  public synchronized Collection<String> providers() {
    return List.copyOf(providers.keySet());
  }

  private static String shortReason(NodeStanding t) {
    return switch (t.outcome) {
      case WRONG_RESULT -> "wrong challenge result";
      case FAILED_OPENING -> "challenge commitment not opened";
      default -> "challenge too slow for " + t.product;
    };
  }
}
