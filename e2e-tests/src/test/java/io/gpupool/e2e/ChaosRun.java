package io.gpupool.e2e;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.e2e.chaos.ChaosTally;
import io.gpupool.e2e.chaos.ClusterView;
import io.gpupool.e2e.chaos.Invariants;
import io.gpupool.e2e.chaos.LingeringThreads;
import io.gpupool.e2e.chaos.ProgressDeadline;
import io.gpupool.e2e.chaos.ServedModels;
import io.gpupool.sandbox.api.FaultPlan;
import io.gpupool.sandbox.chain.RpcFaultProxy;
import io.gpupool.sandbox.chain.SandboxChain;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The chaos harness: the sandbox with its chain and two operator replicas under leader election,
 * TrainingJobs submitted over a window while the API server injects faults (a {@link FaultPlan}),
 * the chain's RPC endpoint flaps (an {@link RpcFaultProxy}), nodes churn and the leader is
 * SIGKILLed at random moments (some right after a job was submitted: mid-placement,
 * mid-gang-creation; some right after a settlement transaction reached the chain, before the leader
 * heard its hash), and anvil itself is restarted on its state, cleanly or after a SIGKILL that
 * loses the blocks mined since its last state write (settlements the operator had counted among
 * them). The invariants are checked every few seconds while it runs and once more when every job
 * has ended and settlement is quiet; the run ends with the table of {@link ChaosTally}.
 *
 * <p>{@code ./gpupool soak --minutes N} runs it long ({@link #main}); {@code ChaosE2E} runs it
 * short in the suite.
 */
public final class ChaosRun {
  static final String LEASE = "gpupool-chaos-leader";

  /**
   * How often the chaos sandbox's anvil writes its state (the sandbox's own: every second). At one
   * second a crash timed after a settlement lost no block in seven tries; at ten, a settlement
   * mined a moment before a crash is above the last write, so the crash takes it back and the
   * operator has to settle it again.
   */
  static final Duration ANVIL_STATE_INTERVAL = Duration.ofSeconds(10);

  /** How hard and how long. */
  public record Settings(
      Duration window,
      int jobs,
      String apiFaults,
      double rpcFaultRate,
      Duration churnEvery,
      Duration killEvery,
      Duration outageEvery,
      double timeScale,
      int maxRunSeconds,
      long seed,
      int inferenceJobs) {

    /**
     * A soak of {@code minutes}: about 7 TrainingJobs a minute and an InferenceJob every 3 minutes,
     * faults at a few percent.
     */
    public static Settings soak(int minutes, long seed) {
      return new Settings(
          Duration.ofMinutes(minutes),
          Math.max(10, minutes * 7),
          "all=0.01,conflict=0.03,throttle=0.02,watch-closed=0.1,watch-gone=0.05",
          0.05,
          Duration.ofSeconds(20),
          Duration.ofSeconds(90),
          Duration.ofSeconds(120),
          10,
          600,
          seed,
          Math.max(1, minutes / 3));
    }
  }

  private final Settings settings;
  private final Consumer<String> log;
  private final ChaosTally tally = new ChaosTally();
  private final Random random;
  private long anvilRestarts;
  private long anvilCrashes;
  private long blocksLostToCrashes;
  private volatile Instant lastCrash;
  // true while a crash waits for the next settlement: a crash thread must neither crash nor re-arm
  // once that wait is over (the window ended, or the crash happened)
  private volatile boolean crashWanted;

  private ChaosRun(Settings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
    this.random = new Random(settings.seed());
  }

  /** Runs the whole scenario; the tally holds the table and every violation. */
  public static ChaosTally run(Settings settings, Consumer<String> log) throws Exception {
    return new ChaosRun(settings, log).run();
  }

  private static Map<String, String> election() {
    Map<String, String> env = new HashMap<>();
    env.put("GPUPOOL_LEADER_ELECTION_ENABLED", "true");
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_NAME", LEASE);
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_DURATION", "10s");
    env.put("GPUPOOL_LEADER_ELECTION_RENEW_DEADLINE", "8s");
    env.put("GPUPOOL_LEADER_ELECTION_RETRY_PERIOD", "1s");
    env.put("GPUPOOL_NODES_LOST_GRACE_PERIOD", "3s");
    return env;
  }

  private ChaosTally run() throws Exception {
    RpcFaultProxy[] proxy = new RpcFaultProxy[1];
    Map<RpcFaultProxy.Fault, Double> rpcRates = new EnumMap<>(RpcFaultProxy.Fault.class);
    double r = settings.rpcFaultRate();
    rpcRates.put(RpcFaultProxy.Fault.RPC_ERROR, r / 3);
    rpcRates.put(RpcFaultProxy.Fault.RPC_UNAVAILABLE, r / 3);
    rpcRates.put(RpcFaultProxy.Fault.RPC_TIMEOUT, r / 3);
    int firstPort = OperatorProcess.freePort();
    SandboxChain.Options chainOptions =
        SandboxChain.Options.forTimeScale(settings.timeScale())
            .withAnvilStateInterval(ANVIL_STATE_INTERVAL);
    try (SandboxCluster cluster =
            SandboxCluster.startWithChainThrough(
                "chaos",
                settings.timeScale(),
                chainOptions,
                election(),
                firstPort,
                anvil -> {
                  proxy[0] =
                      new RpcFaultProxy(anvil, rpcRates, Duration.ofSeconds(11), settings.seed())
                          .start();
                  return proxy[0].url();
                });
        RpcFaultProxy rpc = proxy[0]) {
      Map<String, String> replicaEnv = new HashMap<>(cluster.chain().operatorEnvironment());
      replicaEnv.put("GPUPOOL_BILLING_RPC_URL", rpc.url());
      replicaEnv.putAll(election());
      try (OperatorReplicas replicas =
          new OperatorReplicas(cluster, firstPort, replicaEnv, LEASE)) {
        return scenario(cluster, rpc, replicas);
      }
    }
  }

  private ChaosTally scenario(SandboxCluster cluster, RpcFaultProxy rpc, OperatorReplicas replicas)
      throws Exception {
    KubernetesClient admin = cluster.client();
    cluster
        .kubectl
        .run(
            "apply", "-f", SandboxCluster.REPO.resolve("examples/billing-accounts.yaml").toString())
        .expectSuccess();
    replicas.keepTwo();
    Map<String, String> providers = cluster.chain().registeredProviders();
    FaultPlan plan = FaultPlan.parse(settings.apiFaults(), settings.seed());
    NodeChurn churn = new NodeChurn(admin, cluster.sandbox().kubelet(), settings.seed());
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(
        () -> sample(admin, cluster.chain(), providers, replicas), 5, 3, TimeUnit.SECONDS);
    log.accept("chaos: API faults " + plan + ", RPC faults " + settings.rpcFaultRate());
    cluster.sandbox().apiServer().injectFaults(plan);
    Instant start = Instant.now();
    Instant end = start.plus(settings.window());
    Instant nextJob = start;
    Instant nextChurn = start.plus(NodeChurn.jitter(random, settings.churnEvery()));
    Instant nextKill = start.plus(NodeChurn.jitter(random, settings.killEvery()));
    Instant nextOutage = start.plus(NodeChurn.jitter(random, settings.outageEvery()));
    Duration jobGap = settings.window().dividedBy(Math.max(1, settings.jobs()));
    ServedModels served =
        new ServedModels(admin, settings.window(), settings.inferenceJobs(), random, tally);
    int submitted = 0;
    Instant armedUntil = null;
    Runnable unsent = null; // what the armed hook does at a random moment when nothing was sent
    int outages = 0;
    try {
      while (Instant.now().isBefore(end) || submitted < settings.jobs()) {
        Instant now = Instant.now();
        if (submitted < settings.jobs() && !now.isBefore(nextJob)) {
          submit(admin, submitted++);
          nextJob = now.plus(NodeChurn.jitter(random, jobGap));
          if (random.nextDouble() < 0.1 && now.isAfter(nextKill.minusSeconds(20))) {
            killLeader(admin, replicas, "mid-placement"); // right after a submission
            nextKill = now.plus(NodeChurn.jitter(random, settings.killEvery()));
          }
        }
        served.step(now);
        if (armedUntil != null && now.isAfter(armedUntil)) {
          armedUntil = null;
          if (rpc.disarm()) {
            unsent.run(); // no settlement came
          }
        }
        if (now.isAfter(nextKill)) {
          if (armedUntil == null && random.nextDouble() < 0.3) {
            // Killed from the proxy's thread once the chain has the transaction, before its hash
            // (let alone a receipt) reaches the leader.
            rpc.afterNextSend(
                () -> killLeader(admin, replicas, "between a transaction's send and its receipt"));
            unsent = () -> killLeader(admin, replicas, "at a random moment");
            armedUntil = now.plusSeconds(60);
            nextKill = now.plus(NodeChurn.jitter(random, settings.killEvery()));
          } else if (killLeader(admin, replicas, "at a random moment")) {
            nextKill = now.plus(NodeChurn.jitter(random, settings.killEvery()));
          } else {
            nextKill = now.plusSeconds(2); // no replica of ours led just then: try again soon
          }
        }
        if (now.isAfter(nextChurn)) {
          churn.step();
          nextChurn = now.plus(NodeChurn.jitter(random, settings.churnEvery()));
        }
        if (now.isAfter(nextOutage)) {
          if (outages % 3 == 0 && armedUntil != null) {
            // A leader kill waits on the next send: the crash waits for that to fire or lapse,
            // so that it too comes right after a settlement (at random it mostly loses nothing).
            nextOutage = now.plusSeconds(5);
          } else {
            switch (outages++ % 3) {
              case 0 -> {
                // Crashed just after a settlement reached the chain (crashSoon); at a random
                // moment when none comes within a minute.
                crashWanted = true;
                rpc.afterNextSend(() -> crashSoon(cluster.chain(), rpc));
                unsent = () -> crashAnvil(cluster.chain(), "at a random moment (no settlement)");
                armedUntil = now.plusSeconds(60);
              }
              case 1 -> rpc.outage(Duration.ofSeconds(5 + random.nextInt(10)));
              default -> restartAnvil(cluster.chain());
            }
            nextOutage = now.plus(NodeChurn.jitter(random, settings.outageEvery()));
          }
        }
        churn.heal(false);
        replicas.keepTwo();
        Thread.sleep(250);
      }
      if (armedUntil != null && rpc.disarm()) {
        // The window closed before the armed settlement came: what waited on it (a leader kill or
        // an anvil crash) happens now, as it would have at a random moment. A short run would
        // otherwise end with its only kill still armed and never made.
        unsent.run();
      }
      log.accept("chaos: " + submitted + " jobs submitted; calming down");
      served.windowEnded(Instant.now());
    } finally {
      crashWanted = false;
      cluster.sandbox().apiServer().injectFaults(FaultPlan.none());
      rpc.disarm();
      rpc.calm();
      churn.restoreAll();
    }
    replicas.keepTwo();
    crashAfterNextSettlement(cluster.chain(), rpc, Duration.ofSeconds(120));
    boolean ended =
        awaitJobsEnded(
            admin,
            served,
            replicas,
            Duration.ofSeconds(settings.maxRunSeconds() / (long) settings.timeScale() + 240));
    awaitRecheckAfterLastCrash();
    boolean quiet = awaitSettlementQuiet(admin, Duration.ofSeconds(180));
    sampler.shutdownNow();
    sampler.awaitTermination(30, TimeUnit.SECONDS);
    Map<String, BigInteger> balances = balances(cluster.chain(), providers);
    ClusterView view = ClusterView.read(admin, ChartRelease.NAMESPACE);
    tally.atEnd(Invariants.atEnd(view, balances));
    tally.replicasAtEnd(replicas.leadership(admin));
    log.accept("chaos: jobs ended " + ended + ", settlement quiet " + quiet);
    record(plan, rpc, churn, replicas, view);
    tally.set("kubelet: pods refused for want of GPUs (UnexpectedAdmissionError)", refusals(admin));
    return tally;
  }

  /** The kubelet's refusals: each is a pod placed on GPUs live pods held (an over-commit). */
  private static long refusals(KubernetesClient admin) {
    return admin.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> "UnexpectedAdmissionError".equals(e.getReason()))
        .count();
  }

  /** anvil stopped and started again on its state: what was mined stays, its pool is lost. */
  private void restartAnvil(SandboxChain chain) {
    try {
      Duration down = chain.restartAnvil();
      log.accept("chaos: anvil restarted on its state, down " + down.toMillis() + " ms");
      anvilRestarts++;
    } catch (RuntimeException e) {
      log.accept("chaos: anvil restart failed: " + e);
      throw e;
    }
  }

  /**
   * anvil SIGKILLed and started again on the state it wrote last: the blocks of its last second or
   * so are gone with the settlements in them, which the operator must notice and settle again.
   */
  private synchronized void crashAnvil(SandboxChain chain, String when) {
    // read just before the kill: a block mined in between is counted as kept, never as lost
    long before = chain.blockNumber();
    Duration down = chain.crashAnvil();
    lastCrash = Instant.now();
    long lost = Math.max(0, before - chain.blockNumber());
    log.accept(
        "chaos: anvil SIGKILLed "
            + when
            + ", "
            + lost
            + " blocks lost, down "
            + down.toMillis()
            + " ms");
    anvilCrashes++;
    blocksLostToCrashes += lost;
  }

  /**
   * {@link #crashAnvil} in 100-400 ms, off the RPC proxy's thread (which must reply first): by then
   * the leader has mostly read the receipt and counted the settlement. When anvil wrote its state
   * in between (the settlement's block is in the file: the crash would take nothing back), it waits
   * for the next transaction instead; the run's loop still crashes at a random moment when none
   * comes before the armed minute ends.
   */
  private void crashSoon(SandboxChain chain, RpcFaultProxy rpc) {
    long delay = 100 + random.nextInt(300);
    Thread crash =
        new Thread(
            () -> {
              try {
                Thread.sleep(delay);
                if (!crashWanted) {
                  return;
                }
                if (chain.blocksSinceStateWrite() == 0) {
                  rpc.afterNextSend(() -> crashSoon(chain, rpc));
                  return;
                }
                crashWanted = false;
                crashAnvil(chain, "right after a settlement");
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                log.accept("chaos: anvil crash failed: " + e);
              }
            },
            "chaos-anvil-crash");
    crash.setDaemon(true);
    crash.start();
  }

  /**
   * Once more right after the window, while the operator settles its backlog: the window's leader
   * kills and RPC faults leave few settlements mined while it runs, so a crash there mostly finds
   * no settlement to take back; this one waits (up to {@code limit}) for a settlement mined above
   * anvil's last state write, then takes it back. Counted with the others.
   */
  private void crashAfterNextSettlement(SandboxChain chain, RpcFaultProxy rpc, Duration limit)
      throws InterruptedException {
    long crashesBefore = crashes();
    crashWanted = true;
    rpc.afterNextSend(() -> crashSoon(chain, rpc));
    Instant deadline = Instant.now().plus(limit);
    while (crashes() == crashesBefore && Instant.now().isBefore(deadline)) {
      Thread.sleep(250);
    }
    crashWanted = false;
    rpc.disarm();
    if (crashes() == crashesBefore) {
      log.accept("chaos: no settlement was mined within " + limit + " after the window");
    }
  }

  private synchronized long crashes() {
    return anvilCrashes;
  }

  /**
   * Settlements a crash rolled back look settled in the usage records until the operator's next
   * recheck reads the chain again: the quiet check means nothing before that recheck.
   */
  private void awaitRecheckAfterLastCrash() throws InterruptedException {
    if (lastCrash == null) {
      return;
    }
    Instant rechecked = lastCrash.plus(SandboxChain.RECHECK_INTERVAL.multipliedBy(2));
    long wait = Duration.between(Instant.now(), rechecked).toMillis();
    if (wait > 0) {
      Thread.sleep(wait);
    }
  }

  private void keepTwo(OperatorReplicas replicas) {
    try {
      replicas.keepTwo();
    } catch (java.io.IOException | RuntimeException e) {
      log.accept("chaos: cannot start a replica: " + e);
    }
  }

  /** SIGKILLs the leader if one of ours leads; true when it did. */
  private boolean killLeader(KubernetesClient admin, OperatorReplicas replicas, String when) {
    if (replicas.killLeader(admin)) {
      log.accept("chaos: leader SIGKILLed " + when);
      tally.add("operator: leader SIGKILLed " + when, 1);
      return true;
    }
    return false;
  }

  private void submit(KubernetesClient admin, int i) {
    int workers = 1 + random.nextInt(3);
    int runSeconds = 60 + random.nextInt(Math.max(1, settings.maxRunSeconds() - 60));
    String yaml = ExamplesE2E.trainingJob("chaos-" + i, workers, Integer.toString(runSeconds));
    admin.resource(Serialization.unmarshal(yaml, TrainingJob.class)).create();
    tally.add("jobs submitted", 1);
  }

  private void sample(
      KubernetesClient admin,
      SandboxChain chain,
      Map<String, String> providers,
      OperatorReplicas replicas) {
    try {
      // chain first: a balance read after the records could include usage they do not show yet
      Map<String, BigInteger> balances = balances(chain, providers);
      ClusterView view = ClusterView.read(admin, ChartRelease.NAMESPACE);
      var violations = Invariants.continuous(view, balances);
      tally.sample(violations);
      violations.forEach(v -> log.accept("chaos: invariant broken: " + v));
      tally.heap(replicas.heap(Duration.ofSeconds(5)));
    } catch (RuntimeException e) {
      log.accept("chaos: a sample failed: " + e);
    }
  }

  private static Map<String, BigInteger> balances(
      SandboxChain chain, Map<String, String> providers) {
    Map<String, BigInteger> out = new HashMap<>();
    for (String address : providers.values()) {
      out.put(address, chain.providerBalance(address));
    }
    return out;
  }

  /** Until every job ended; gives up after {@code patience} in which no job ended. */
  private boolean awaitJobsEnded(
      KubernetesClient admin, ServedModels served, OperatorReplicas replicas, Duration patience)
      throws InterruptedException {
    ProgressDeadline wait = new ProgressDeadline(Instant.now(), patience);
    while (true) {
      // Two replicas run to the end, as a Deployment's would: one that exits after the window (a
      // leader that could not renew, a replica whose election stopped) is replaced.
      keepTwo(replicas);
      served.afterWindow(Instant.now());
      var jobs = admin.resources(TrainingJob.class).inNamespace("default").list().getItems();
      long open =
          jobs.stream().filter(j -> !Invariants.ended(j)).count()
              + ServedModels.stillServing(admin);
      if (open == 0) {
        return true;
      }
      if (!wait.keepWaiting(Instant.now(), open)) {
        return false;
      }
      Thread.sleep(2000);
    }
  }

  /** Until no usage record has a pair with a transaction in flight or unsettled usage. */
  private static boolean awaitSettlementQuiet(KubernetesClient admin, Duration limit)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    int quietReads = 0;
    while (Instant.now().isBefore(deadline)) {
      boolean quiet = true;
      for (ConfigMap cm :
          admin
              .configMaps()
              .inNamespace(ChartRelease.NAMESPACE)
              .withLabel("gpupool.io/billing", "usage")
              .list()
              .getItems()) {
        quiet &= Invariants.settled(cm);
      }
      quietReads = quiet ? quietReads + 1 : 0;
      if (quietReads >= 3) {
        return true;
      }
      Thread.sleep(2000);
    }
    return false;
  }

  private void record(
      FaultPlan plan,
      RpcFaultProxy rpc,
      NodeChurn churn,
      OperatorReplicas replicas,
      ClusterView view)
      throws InterruptedException {
    plan.counts().forEach((f, n) -> tally.fault("API", f.specName(), n));
    rpc.counts()
        .forEach(
            (f, n) ->
                tally.fault(
                    "RPC", f.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), n));
    tally.fault("chain", "anvil restarted on its state", anvilRestarts);
    tally.fault("chain", "anvil SIGKILLed and restarted", anvilCrashes);
    tally.set("chain: blocks lost to anvil SIGKILLs", blocksLostToCrashes);
    tally.fault("node", "NotReady", churn.notReady());
    tally.fault("node", "removed", churn.removals());
    tally.fault("node", "re-joined", churn.rejoins());
    tally.fault("node", "new", churn.newNodes());
    tally.set("operator: replicas started", replicas.started());
    tally.set("operator: replicas that exited on their own", replicas.exits());
    long succeeded =
        view.jobs().stream()
            .filter(
                j ->
                    j.getStatus() != null
                        && j.getStatus().phase
                            == io.gpupool.api.v1alpha1.TrainingJobPhase.Succeeded)
            .count();
    long failed =
        view.jobs().stream()
            .filter(
                j ->
                    j.getStatus() != null
                        && j.getStatus().phase == io.gpupool.api.v1alpha1.TrainingJobPhase.Failed)
            .count();
    long restarts =
        view.jobs().stream()
            .mapToLong(
                j ->
                    j.getStatus() == null || j.getStatus().restarts == null
                        ? 0
                        : j.getStatus().restarts)
            .sum();
    tally.set("jobs succeeded", succeeded);
    tally.set("jobs failed", failed);
    tally.set("gang restarts (status.restarts, all jobs)", restarts);
    ServedModels.record(view, tally);
    tally.heapAtEnd(replicas.heapAtEnd(), replicas.whyNoHeap());
  }

  /** {@code ./gpupool soak --minutes N [--seed S]}: the long run; prints the table. */
  public static void main(String[] args) throws Exception {
    int minutes = 30;
    long seed = 19;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--minutes" -> minutes = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "usage: soak --minutes N [--seed S] (unknown: " + args[i] + ")");
      }
    }
    ChaosTally tally = run(Settings.soak(minutes, seed), line -> System.err.println(line));
    System.out.println(tally.table());
    if (!tally.violations().isEmpty()) {
      System.out.println("violations:");
      tally.violations().forEach(v -> System.out.println("- " + v));
    }
    reportLingeringThreads();
    // Explicit: a thread some library left running must not keep a finished soak's JVM alive.
    System.exit(tally.exitCode());
  }

  /**
   * Names the non-daemon threads still alive a few seconds after everything the run started was
   * closed ({@link LingeringThreads}): each would have kept the JVM from exiting on its own, so
   * each is a leak to close at its source.
   */
  private static void reportLingeringThreads() throws InterruptedException {
    for (String thread : LingeringThreads.after(Duration.ofSeconds(5))) {
      System.err.println("chaos: non-daemon thread still alive at exit: " + thread);
    }
  }
}
