package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodTracker;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.leader.Leadership;
import io.gpupool.operator.provider.ReliabilityTracker;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import io.gpupool.scheduler.trust.TimingModel;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * Runs hardware challenges: picks idle nodes that joined (or whose random turn came, within the
 * GPU-time budget), holds their GPUs in the allocation ledger so no job is placed there meanwhile,
 * creates the challenge pod, and judges the answer on the operator's own clock. A running job is
 * never preempted: only nodes with no GPU slot in use are challenged.
 *
 * <p>Verdicts go to the {@link TrustLedger} (quarantine, the Verified condition), the provider's
 * reliability score, a Kubernetes event, the metrics, and — for a wrong answer — a dispute.
 */
@ApplicationScoped
public class ChallengeRunner {
  private static final Logger LOG = Logger.getLogger(ChallengeRunner.class);
  static final String HOLDER_PREFIX = "challenge:";

  private final ChallengeConfig config;
  private final KubernetesClient client;
  private final NodeInventory inventory;
  private final AllocationLedger ledger;
  private final TrustLedger trust;
  private final ReliabilityTracker reliability;
  private final EventRecorder events;
  private final ChallengeDisputes disputes;
  private final ChallengeMetrics metrics;
  private final Leadership leadership;
  private final ProviderDirectory providers;
  private final PodTracker pods;
  private final GpuCatalog catalog = GpuCatalog.defaults();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock = Clock.systemUTC();
  private final Map<String, Running> running = new ConcurrentHashMap<>();
  // When the operator first saw each running challenge's pod running: compute time starts there.
  private final Map<String, Instant> seenRunning = new ConcurrentHashMap<>();
  private final ChallengeBudget budget;
  private final TimingModel timing;
  private final String namespace;
  private ScheduledExecutorService executor;

  /** A challenge in flight. */
  record Running(
      String node,
      String provider,
      String product,
      int gpus,
      int slots,
      Challenge challenge,
      GpuSpec claimed,
      String pod,
      Instant started) {}

  public ChallengeRunner(
      ChallengeConfig config,
      KubernetesClient client,
      NodeInventory inventory,
      AllocationLedger ledger,
      TrustLedger trust,
      ReliabilityTracker reliability,
      EventRecorder events,
      ChallengeDisputes disputes,
      ChallengeMetrics metrics,
      Leadership leadership,
      ProviderDirectory providers,
      PodTracker pods) {
    this.providers = providers;
    this.pods = pods;
    this.config = config;
    this.client = client;
    this.inventory = inventory;
    this.ledger = ledger;
    this.trust = trust;
    this.reliability = reliability;
    this.events = events;
    this.disputes = disputes;
    this.metrics = metrics;
    this.leadership = leadership;
    this.budget = new ChallengeBudget(config.budget());
    this.timing =
        new TimingModel(config.efficiency(), config.tolerance(), config.startupAllowance());
    String podNamespace = System.getenv("POD_NAMESPACE");
    this.namespace =
        config
            .namespace()
            .orElse(
                podNamespace != null && !podNamespace.isBlank()
                    ? podNamespace
                    : Optional.ofNullable(client.getNamespace()).orElse("default"));
    inventory.onChange(
        name -> inventory.node(name).ifPresentOrElse(n -> {}, () -> trust.forget(name)));
  }

  void start(@Observes StartupEvent ignored) {
    if (!config.enabled()) {
      return;
    }
    leadership.whenLeading(
        () -> {
          removeLeftovers();
          executor = Periodic.daemon("gpupool-challenges");
          Duration tick = Duration.ofMillis(Math.max(100, config.tick().toMillis()));
          Periodic.every(executor, tick, tick, "challenge round", this::tick);
          LOG.infof(
              "hardware challenges on: pods in %s, %s per round side, mean interval %s, budget %.1f %%",
              namespace, config.size(), config.meanInterval(), config.budget() * 100);
        });
  }

  /** A predecessor's unfinished challenges: nobody will judge them, and they hold GPUs. */
  private void removeLeftovers() {
    try {
      client.pods().inNamespace(namespace).withLabel(ChallengePods.CHALLENGE_LABEL).delete();
    } catch (KubernetesClientException e) {
      LOG.warnf("leftover challenge pods in %s not removed: %s", namespace, e.getMessage());
    }
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  void tick() {
    Instant now = clock.instant();
    for (Running r : List.copyOf(running.values())) {
      poll(r, now);
    }
    if (!inventory.synced() || !pods.ready() || !providers.synced()) {
      return; // until running pods are in the ledger, a busy node could look idle
    }
    // A node quarantined before a restart stays quarantined: never challenged afresh. A node that
    // passed keeps its pass and its next random time, so a restart does not challenge the whole
    // pool at once as if every node had just joined.
    trust.restore(providers.all());
    // The GPU time the last hour's restored challenges held still counts against the budget.
    for (TrustLedger.Spent spent : trust.takeRestoredSpend()) {
      if (spent.at().isAfter(now.minus(ChallengeBudget.WINDOW))) {
        budget.spend(spent.at(), spent.gpuSeconds());
      }
    }
    List<GpuNode> nodes = new ArrayList<>(inventory.nodes());
    Collections.shuffle(nodes, random);
    // Joining nodes first: a new claim is checked before random re-checks.
    nodes.sort((a, b) -> Boolean.compare(!joining(a), !joining(b)));
    int poolGpus = nodes.stream().mapToInt(GpuNode::physicalGpus).sum();
    for (GpuNode node : nodes) {
      if (running.size() >= Math.max(1, config.maxConcurrent())) {
        break;
      }
      if (eligible(node, now)
          && (joining(node)
              || budget.allows(now, poolGpus, node.physicalGpus() * expectedHold(node)))) {
        start(node, now);
      }
    }
  }

  private boolean joining(GpuNode node) {
    return trust.unchallenged(node.name(), node.product());
  }

  private boolean eligible(GpuNode node, Instant now) {
    return node.usable()
        && node.provider() != null
        && node.physicalGpus() > 0
        && node.allocatableSlots() > 0
        && node.migDevices().isEmpty()
        && !running.containsKey(node.name())
        && trust.due(node.name(), node.product(), now);
  }

  private double expectedHold(GpuNode node) {
    GpuSpec spec = catalog.lookup(node.product(), node.memoryMiB(), node.family());
    int rounds = timing.roundsFor(config.size(), spec, node.physicalGpus(), config.target());
    Challenge sized = new Challenge("0".repeat(32), config.size(), rounds);
    // A node rated below its claim is given until the deadline at its rating.
    GpuSpec rated = spec.atSpeed(trust.speedFactor(node.name(), node.product()));
    return timing.deadline(sized, rated, node.physicalGpus()).toMillis() / 1000.0;
  }

  private void start(GpuNode node, Instant now) {
    GpuSpec claimed = catalog.lookup(node.product(), node.memoryMiB(), node.family());
    int rounds = timing.roundsFor(config.size(), claimed, node.physicalGpus(), config.target());
    Challenge challenge = Challenge.fresh(random, config.size(), rounds);
    String holder = HOLDER_PREFIX + node.name();
    boolean held =
        ledger.decide(
            () -> {
              if (ledger.usedByNode().getOrDefault(node.name(), 0) > 0) {
                return false; // work arrived: never take GPUs a job holds
              }
              ledger.hold(holder, Map.of(node.name(), node.allocatableSlots()));
              return true;
            });
    if (!held) {
      return;
    }
    Pod pod =
        ChallengePods.build(
            namespace, node.name(), node.allocatableSlots(), challenge, config.image());
    try {
      client.pods().inNamespace(namespace).resource(pod).create();
    } catch (KubernetesClientException e) {
      ledger.release(holder);
      trust.postpone(node.name(), node.provider(), node.product(), now.plusSeconds(60));
      LOG.warnf("Node(%s): challenge pod not created: %s", node.name(), e.getMessage());
      return;
    }
    running.put(
        node.name(),
        new Running(
            node.name(),
            node.provider(),
            node.product(),
            node.physicalGpus(),
            node.allocatableSlots(),
            challenge,
            claimed,
            pod.getMetadata().getName(),
            now));
    LOG.infof(
        "Node(%s): challenge %s started (%d rounds of %d², %d × %s)",
        node.name(),
        challenge.nonce().substring(0, 8),
        rounds,
        config.size(),
        node.physicalGpus(),
        node.product());
  }

  private void poll(Running r, Instant now) {
    Pod pod;
    try {
      pod = client.pods().inNamespace(namespace).withName(r.pod()).get();
    } catch (KubernetesClientException e) {
      LOG.debugf("Node(%s): challenge pod unreadable: %s", r.node(), e.getMessage());
      return;
    }
    Duration elapsed = Duration.between(r.started(), now);
    if (pod == null) {
      end(r, now);
      trust.postpone(r.node(), r.provider(), r.product(), now.plusSeconds(60));
      LOG.infof("Node(%s): challenge pod vanished; challenged again later", r.node());
      return;
    }
    if (pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())) {
      seenRunning.putIfAbsent(r.node(), now);
    }
    Optional<Duration> runningAfter =
        Optional.ofNullable(seenRunning.get(r.node())).map(t -> Duration.between(r.started(), t));
    Optional<ChallengePods.PodResult> result = ChallengePods.result(pod);
    Optional<ChallengeVerdict> verdict;
    if (result.isPresent() && result.get().answer().isEmpty()) {
      verdict = Optional.of(new ChallengeVerdict(Outcome.TOO_SLOW, result.get().failure()));
    } else {
      verdict =
          ChallengeVerdict.classify(
              r.challenge(),
              result.flatMap(ChallengePods.PodResult::answer),
              elapsed,
              runningAfter,
              r.claimed(),
              r.gpus(),
              timing,
              random,
              config.samples(),
              new SpeedCorrection(trust.speedFactor(r.node(), r.product()), correctionFloor()));
    }
    if (verdict.isEmpty()) {
      return;
    }
    end(r, now);
    conclude(r, verdict.get(), now);
  }

  private double correctionFloor() {
    double floor = config.speedCorrectionFloor();
    return floor > 0 && floor <= 1 ? floor : 1.0;
  }

  private void end(Running r, Instant now) {
    running.remove(r.node());
    seenRunning.remove(r.node());
    try {
      client.pods().inNamespace(namespace).withName(r.pod()).withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      LOG.debugf("Node(%s): challenge pod not deleted: %s", r.node(), e.getMessage());
    }
    ledger.release(HOLDER_PREFIX + r.node());
    budget.spend(now, heldGpuSeconds(r, now));
  }

  private static double heldGpuSeconds(Running r, Instant now) {
    return r.gpus() * Duration.between(r.started(), now).toMillis() / 1000.0;
  }

  private void conclude(Running r, ChallengeVerdict verdict, Instant now) {
    Duration next =
        Duration.ofMillis(
            (long) (-Math.log(1 - random.nextDouble()) * config.meanInterval().toMillis()));
    double before = trust.speedFactor(r.node(), r.product());
    trust.record(r.node(), r.provider(), r.product(), verdict, now, next, heldGpuSeconds(r, now));
    metrics.outcome(r.provider(), verdict.outcome());
    String message = "node " + r.node() + ": " + verdict.message();
    if (verdict.outcome() == Outcome.PASSED) {
      LOG.infof("Node(%s): challenge passed: %s", r.node(), verdict.message());
      if (before < 1 && verdict.speedFactor() == 1.0) {
        message +=
            String.format(
                Locale.ROOT,
                "; speed restored: planned and priced as %s again (was rated at %.0f %%)",
                r.product(),
                before * 100);
        event(r.provider(), EventRecorder.NORMAL, "ChallengeSpeedRestored", message);
        return;
      }
      event(r.provider(), EventRecorder.NORMAL, "ChallengePassed", message);
      return;
    }
    reliability.challengeFailed(r.provider());
    if (verdict.outcome() == Outcome.SLOWER) {
      message +=
          String.format(
              Locale.ROOT,
              "; speed corrected, not quarantined: planned at %.0f %% of %s and priced at %.0f %%"
                  + " of the provider's price until a challenge shows the claimed speed",
              verdict.speedFactor() * 100,
              r.product(),
              verdict.speedFactor() * 100);
      LOG.warnf("Node(%s): %s", r.node(), message);
      event(r.provider(), EventRecorder.WARNING, "ChallengeSpeedCorrected", message);
      return;
    }
    if (verdict.outcome() == Outcome.WRONG_RESULT) {
      String evidence =
          "challenge nonce="
              + r.challenge().nonce()
              + " size="
              + r.challenge().size()
              + " rounds="
              + r.challenge().rounds()
              + " node="
              + r.node()
              + ": "
              + verdict.message();
      message += "; node quarantined; fraud evidence goes to disputes";
      String node = r.node();
      disputes.file(
          r.provider(),
          evidence,
          "wrong hardware-challenge result on node " + node,
          outcome -> {
            LOG.warnf("Node(%s): %s", node, outcome);
            event(
                r.provider(),
                EventRecorder.WARNING,
                "ChallengeDispute",
                "node " + node + ": " + outcome);
          });
    } else {
      message += "; node quarantined: its GPUs are not what its labels claim";
    }
    LOG.warnf("Node(%s): challenge failed: %s", r.node(), message);
    event(r.provider(), EventRecorder.WARNING, "ChallengeFailed", message);
  }

  private void event(String provider, String type, String reason, String message) {
    providers
        .provider(provider)
        .ifPresent(subject -> events.record(subject, type, reason, message));
  }
}
