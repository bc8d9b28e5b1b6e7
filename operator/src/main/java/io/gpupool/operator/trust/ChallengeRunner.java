package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodTracker;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.leader.Leadership;
import io.gpupool.operator.provider.ReliabilityTracker;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeRate;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import io.gpupool.scheduler.trust.MeasuredRates;
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
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Runs hardware challenges: picks idle nodes that joined (or whose random turn came, within the
 * GPU-time budget), holds their GPUs in the allocation ledger so no job is placed there meanwhile,
 * creates the challenge pod, and judges the answer on the operator's own clock. A running job is
 * never preempted: only nodes with no GPU slot in use are challenged.
 *
 * <p>Verdicts go to {@link ChallengeConclusions}: the {@link TrustLedger} (quarantine, the Verified
 * condition), the provider's reliability score, a Kubernetes event, the metrics, and — for a wrong
 * answer — a dispute.
 *
 * <p>A new leader goes on judging its predecessor's challenges: their pods are in the cluster,
 * labelled with the node and carrying the challenge in their env ({@link #resumeInFlight}).
 */
@ApplicationScoped
public class ChallengeRunner {
  private static final Logger LOG = Logger.getLogger(ChallengeRunner.class);
  public static final String HOLDER_PREFIX = "challenge:";

  private final GpupoolConfig.Trust.Challenge config;
  private final KubernetesClient client;
  private final NodeInventory inventory;
  private final AllocationLedger ledger;
  private final TrustLedger trust;
  private final Leadership leadership;
  private final ProviderDirectory providers;
  private final PodTracker pods;
  private final GpuCatalog catalog = GpuCatalog.defaults();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock = Clock.systemUTC();
  private final Map<String, ChallengeInFlight> running = new ConcurrentHashMap<>();
  // When the operator first saw each running challenge's pod running: compute time starts there.
  private final Map<String, Instant> seenRunning = new ConcurrentHashMap<>();
  // Nodes whose adopted challenge could not be timed: challenged again outside the budget.
  private final Set<String> reissue = ConcurrentHashMap.newKeySet();
  private volatile boolean resumed;
  private final ChallengeBudget budget;
  private final ChallengeConclusions conclusions;
  private final TimingModel timing;
  private final ChallengeSizing sizing;
  private final ChallengeJudging judging;
  private final String namespace;
  private ScheduledExecutorService executor;

  public ChallengeRunner(
      GpupoolConfig.Trust.Challenge config,
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
    this.leadership = leadership;
    this.budget = new ChallengeBudget(config.budget());
    this.conclusions =
        new ChallengeConclusions(
            trust,
            reliability,
            metrics,
            disputes,
            providers,
            events,
            random,
            config.meanInterval());
    this.timing =
        new TimingModel(
            config.efficiency(),
            config.tolerance(),
            config.startupAllowance(),
            MeasuredRatesSetting.read(config.rates(), config.size()));
    this.sizing =
        new ChallengeSizing(
            timing,
            config.size(),
            config.target(),
            Answering.of(config.openings()),
            config.maxRounds());
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    this.judging =
        new ChallengeJudging(
            timing,
            random,
            config.samples(),
            new CommitThenOpen(
                secret, config.samples(), config.openingWindow(), config.maxConcurrent()));
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
          executor = Periodic.daemon("gpupool-challenges");
          Duration tick = Duration.ofMillis(Math.max(100, config.tick().toMillis()));
          Periodic.every(executor, tick, tick, "challenge round", this::tick);
          LOG.infof(
              "hardware challenges on: pods in %s, %s per round side, mean interval %s, budget %.1f %%",
              namespace, config.size(), config.meanInterval(), config.budget() * 100);
          LOG.infof(
              "challenge rates measured: %s; other products timed by catalog TFLOP/s × %s",
              timing.measured().isEmpty()
                  ? "none"
                  : timing.measured().all().stream()
                      .map(MeasuredRates::entry)
                      .collect(Collectors.joining(", ")),
              config.efficiency());
        });
  }

  /**
   * Adopts a predecessor's challenges still in the cluster (it died or handed over while they ran)
   * and judges them as if this process had started them, timed from the API server's creation of
   * the pod: a restart neither lets a wrong answer go unjudged nor charges the node a second
   * challenge. An answer given while no leader watched cannot be timed: it is judged only when the
   * verdict does not depend on when it came (a wrong result, or in time even if it came just now);
   * a correct answer that may have been late is challenged again, outside the budget. A pod of a
   * node this process does not know, or without a readable challenge, is deleted.
   *
   * @return false when the pods could not be listed (tried again at the next round)
   */
  boolean resumeInFlight(Instant now) {
    List<Pod> found;
    try {
      found =
          client
              .pods()
              .inNamespace(namespace)
              .withLabel(ChallengePods.CHALLENGE_LABEL)
              .list()
              .getItems();
    } catch (KubernetesClientException e) {
      LOG.warnf("challenge pods in %s not listed: %s", namespace, e.getMessage());
      return false;
    }
    for (Pod pod : found) {
      Optional<ChallengeInFlight> adopted = adopt(pod, now);
      if (adopted.isEmpty()) {
        delete(pod.getMetadata().getName(), "a predecessor's challenge nobody can judge");
        continue;
      }
      ChallengeInFlight r = adopted.get();
      running.put(r.node(), r);
      LOG.infof(
          "Node(%s): a predecessor's challenge %s adopted (pod %s, created %s)",
          r.node(), r.challenge().nonce().substring(0, 8), r.pod(), r.started());
      poll(r, now);
    }
    return true;
  }

  private Optional<ChallengeInFlight> adopt(Pod pod, Instant now) {
    String nodeName = pod.getMetadata().getLabels().get(ChallengePods.CHALLENGE_LABEL);
    Optional<Challenge> challenge = ChallengePods.challengeOf(pod);
    Optional<GpuNode> found = nodeName == null ? Optional.empty() : inventory.node(nodeName);
    if (challenge.isEmpty()
        || found.isEmpty()
        || found.get().provider() == null
        || pod.getMetadata().getDeletionTimestamp() != null
        || running.containsKey(nodeName)
        || !nodeName.equals(pod.getSpec().getNodeName())) {
      return Optional.empty();
    }
    GpuNode node = found.get();
    // Held as start() holds them, so no job is placed there until the verdict.
    ledger.decide(
        () -> {
          ledger.hold(HOLDER_PREFIX + node.name(), Map.of(node.name(), node.allocatableSlots()));
          return true;
        });
    return Optional.of(
        new ChallengeInFlight(
            node.name(),
            node.provider(),
            node.product(),
            node.physicalGpus(),
            node.allocatableSlots(),
            challenge.get(),
            catalog.lookup(node.product(), node.memoryMiB(), node.family()),
            pod.getMetadata().getName(),
            created(pod, now),
            // A commit-then-open pod may have committed while nobody watched.
            ChallengePods.result(pod).isPresent() || ChallengePods.openingPort(pod).isPresent()));
  }

  /** The API server's creation time (a node cannot set it), never after {@code now}. */
  private static Instant created(Pod pod, Instant now) {
    try {
      Instant created = Instant.parse(pod.getMetadata().getCreationTimestamp());
      return created.isAfter(now) ? now : created;
    } catch (RuntimeException e) {
      return now; // unreadable: timed from now, which can only make the node look faster
    }
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (executor != null) {
      executor.shutdownNow();
    }
    judging.close();
  }

  void tick() {
    Instant now = clock.instant();
    pollRunning(now);
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
    if (!resumed) {
      resumed = resumeInFlight(now);
    }
    startDue(now);
  }

  /** Looks at every challenge in flight and judges those that answered or ran out of time. */
  void pollRunning(Instant now) {
    for (ChallengeInFlight r : List.copyOf(running.values())) {
      poll(r, now);
    }
  }

  /** Starts the challenges due now, joining nodes first, random ones within the budget. */
  private void startDue(Instant now) {
    startDue(now, inventory.nodes());
  }

  /**
   * Starts the challenges due now among {@code candidates}. A node any of whose GPU slots is held
   * (a job's pods or reservation, a foreign pod) is never challenged: the check and the challenge's
   * own hold are one decision of the allocation ledger, so a job placed at the same moment wins.
   */
  void startDue(Instant now, Collection<GpuNode> candidates) {
    List<GpuNode> nodes = new ArrayList<>(candidates);
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
              || reissue.contains(node.name())
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
    int rounds = sizing.rounds(spec, node.physicalGpus());
    Challenge sized = new Challenge("0".repeat(32), config.size(), rounds);
    // A node rated below its claim is given until the deadline at its rating.
    ChallengeRate rated =
        timing.rate(spec, config.size()).atShare(trust.speedFactor(node.name(), node.product()));
    return timing.deadline(sized, rated, node.physicalGpus()).toMillis() / 1000.0;
  }

  private void start(GpuNode node, Instant now) {
    GpuSpec claimed = catalog.lookup(node.product(), node.memoryMiB(), node.family());
    int rounds = sizing.rounds(claimed, node.physicalGpus());
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
            namespace,
            node.name(),
            node.allocatableSlots(),
            challenge,
            config.image(),
            config.openings() ? Optional.of(config.openingPort()) : Optional.empty());
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
        new ChallengeInFlight(
            node.name(),
            node.provider(),
            node.product(),
            node.physicalGpus(),
            node.allocatableSlots(),
            challenge,
            claimed,
            pod.getMetadata().getName(),
            now,
            false));
    reissue.remove(node.name());
    LOG.infof(
        "Node(%s): challenge %s started (%d rounds of %d², %d × %s, timed by %s)",
        node.name(),
        challenge.nonce().substring(0, 8),
        rounds,
        config.size(),
        node.physicalGpus(),
        node.product(),
        timing.rate(claimed, config.size()).basis());
  }

  private void poll(ChallengeInFlight r, Instant now) {
    Pod pod;
    try {
      pod = client.pods().inNamespace(namespace).withName(r.pod()).get();
    } catch (KubernetesClientException e) {
      LOG.debugf("Node(%s): challenge pod unreadable: %s", r.node(), e.getMessage());
      return;
    }
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
    ChallengeJudging.Judged judged =
        judging.judge(
            r,
            pod,
            now,
            runningAfter,
            new SpeedCorrection(trust.speedFactor(r.node(), r.product()), correctionFloor()));
    if (judged.verdict().isEmpty()) {
      return;
    }
    ChallengeVerdict verdict = judged.verdict().get();
    end(r, now);
    // A correct answer nobody saw come, judged late, may have come in time while no leader
    // watched. A wrong result is wrong whenever it came; one in time even now was in time.
    if (r.answeredUnseen()
        && judged.answered()
        && (verdict.outcome() == Outcome.SLOWER || verdict.outcome() == Outcome.TOO_SLOW)) {
      challengeAgain(r, now);
      return;
    }
    conclusions.conclude(r, verdict, now);
  }

  /** No verdict: the node is challenged again at the next round, outside the budget. */
  private void challengeAgain(ChallengeInFlight r, Instant now) {
    reissue.add(r.node());
    trust.postpone(r.node(), r.provider(), r.product(), now);
    String message =
        "node "
            + r.node()
            + ": its challenge answered while no operator led, so how long it took is unknown;"
            + " challenged again (outside the challenge budget)";
    LOG.infof("Node(%s): %s", r.node(), message);
    conclusions.event(r.provider(), EventRecorder.NORMAL, "ChallengeReissued", message);
  }

  /**
   * The longest the challenge in flight on {@code node} holds its GPUs, from its pod's creation:
   * the last deadline its verdict waits for (at the speed correction floor, or at the node's rating
   * when that is later). Polled every tick, the pod is deleted and the GPUs released by then plus
   * one tick, whether the node answered or not: a job that finds the node held waits at most that
   * long. (A commit-then-open node whose commitment came by then keeps them until its openings are
   * in or missed: at most the opening window and {@link CommitThenOpen#GRACE} more.)
   */
  Optional<Duration> holdLimit(String node) {
    ChallengeInFlight r = running.get(node);
    if (r == null) {
      return Optional.empty();
    }
    ChallengeRate claimed = timing.rate(r.claimed(), r.challenge().size());
    Duration atRating =
        timing.deadline(
            r.challenge(), claimed.atShare(trust.speedFactor(r.node(), r.product())), r.gpus());
    Duration atFloor = timing.deadline(r.challenge(), claimed.atShare(correctionFloor()), r.gpus());
    return Optional.of(atRating.compareTo(atFloor) > 0 ? atRating : atFloor);
  }

  /** Nodes to be challenged again because an adopted challenge could not be timed. */
  Set<String> reissuing() {
    return Set.copyOf(reissue);
  }

  private double correctionFloor() {
    double floor = config.speedCorrectionFloor();
    return floor > 0 && floor <= 1 ? floor : 1.0;
  }

  private void end(ChallengeInFlight r, Instant now) {
    running.remove(r.node());
    seenRunning.remove(r.node());
    judging.forget(r.node());
    delete(r.pod(), "challenge of node " + r.node() + " ended");
    ledger.release(HOLDER_PREFIX + r.node());
    budget.spend(now, r.heldGpuSeconds(now));
  }

  private void delete(String pod, String why) {
    try {
      client.pods().inNamespace(namespace).withName(pod).withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      LOG.debugf("challenge pod %s not deleted (%s): %s", pod, why, e.getMessage());
    }
  }
}
