package io.gpupool.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every operator setting in one place, each with its default. Set them as {@code gpupool.*}
 * properties or {@code GPUPOOL_*} environment variables (the Helm chart writes the latter).
 */
@ConfigMapping(prefix = "gpupool")
public interface GpupoolConfig {

  /** Node settings. */
  Nodes nodes();

  /** Event settings. */
  Events events();

  /** Planner settings. */
  Planner planner();

  /** Leader election between operator replicas. */
  LeaderElection leaderElection();

  /**
   * How long one of the operator's informers may go without a watch before the replica exits to
   * restart with new ones ({@code InformerWatchdog}); 0 turns that off.
   */
  @WithDefault("2m")
  Duration informerPatience();

  /** InferenceJob autoscaling and scale-down settings. */
  Inference inference();

  /** Which namespaces this install manages, and its claim on them. */
  Scope scope();

  /** Who may read the metrics. */
  Metrics metrics();

  /** Admission through GpuQueues. */
  Queue queue();

  /** Admission through GpuQueues (docs/scheduling.md). */
  interface Queue {
    /**
     * How long an admitted job may hold its queue's quota without being placed; then it gives the
     * quota back and waits at the back of its queue (AdmissionController#unplaced).
     */
    @WithDefault("5m")
    Duration placementTimeout();
  }

  /** Access to {@code /q/metrics}. */
  interface Metrics {
    /**
     * Serve metrics only to callers whose bearer token the API server authenticates (TokenReview)
     * and allows {@code get} on the path (SubjectAccessReview); the Helm chart turns it on.
     */
    @WithDefault("false")
    boolean auth();
  }

  /**
   * An install manages every namespace, a list of them or those a label selector matches; the Helm
   * chart sets these from {@code scope.namespaces} / {@code scope.namespaceSelector} together with
   * JOSDK's watched namespaces ({@code QUARKUS_OPERATOR_SDK_NAMESPACES}) and the RBAC it renders.
   */
  interface Scope {
    /** This install's identity, {@code <release namespace>/<release name>}; default NS/gpupool. */
    Optional<String> install();

    /** The namespaces whose jobs this install manages; unset or empty: every namespace. */
    Optional<List<String>> namespaces();

    /**
     * A label selector ({@code gpupool.io/pool=team-a}): manage the jobs of the namespaces whose
     * labels match it, followed as namespaces are labelled and unlabelled. Exclusive with {@code
     * namespaces}; unset: the list (or every namespace).
     */
    Optional<String> namespaceSelector();

    /**
     * Record this install's claim on the TrainingJob CRD and refuse to start when another install
     * manages an overlapping set of namespaces.
     */
    @WithDefault("true")
    boolean claim();
  }

  /** How InferenceJobs are scaled: how often the load is read, how long a replica drains. */
  interface Inference {
    /**
     * How often each autoscaled InferenceJob's replicas are scraped for their in-flight requests;
     * load has no events, so this is also the longest a scale-up waits for a load spike.
     */
    @WithDefault("15s")
    Duration loadPollInterval();

    /**
     * How long a replica stays out of the Service (still running, finishing its requests) before it
     * is deleted on a scale-down or rolling update.
     */
    @WithDefault("30s")
    Duration drainPeriod();

    /** The node-local model weights cache (spec.weights of InferenceJobs). */
    WeightsCache weightsCache();
  }

  /** Where nodes keep model weights, and what fetches them into a pod's volume. */
  interface WeightsCache {
    /** Directory on every node under which each model's weights get a directory by URI digest. */
    @WithDefault("/var/lib/gpupool/weights")
    String root();

    /** Image of the init container that fetches the weights (contract: docs/inference.md). */
    @WithDefault("ghcr.io/gpupool/workloads:0.1")
    String fetcherImage();

    /** Its command; the URI, the directory and the size come in its env. */
    @WithDefault("python3,/workloads/fetch_weights.py")
    List<String> fetcherCommand();
  }

  /**
   * Only one replica may place jobs, write usage records and settle on chain at a time; the others
   * keep warm caches and take over when the leader's Lease expires. The Helm chart turns this on
   * whenever it runs more than one replica.
   */
  interface LeaderElection {
    /** Compete for the Lease before reconciling; off = this replica leads from start-up. */
    @WithDefault("false")
    boolean enabled();

    /** Name of the coordination.k8s.io Lease the replicas compete for. */
    @WithDefault("gpupool-operator-leader")
    String leaseName();

    /** Namespace of the Lease; default: POD_NAMESPACE, else the client's namespace. */
    Optional<String> namespace();

    /**
     * How long a Lease stays valid without renewal: the longest a dead leader blocks a takeover.
     */
    @WithDefault("15s")
    Duration leaseDuration();

    /** How long the leader keeps trying to renew before it gives up leadership (and exits). */
    @WithDefault("10s")
    Duration renewDeadline();

    /** Time between attempts to acquire or renew the Lease. */
    @WithDefault("2s")
    Duration retryPeriod();
  }

  /** Metering, settlement on chain and the budget gate. */
  Billing billing();

  /**
   * Billing settings ({@code GPUPOOL_BILLING_*} in the Helm chart). Billing (settlement and the
   * budget gate) is off by default so the operator runs without a chain; usage is metered either
   * way.
   */
  interface Billing {
    /** Settle on chain and gate jobs on their payer's escrow. */
    @WithDefault("false")
    boolean enabled();

    /** JSON-RPC endpoint of the chain. */
    Optional<String> rpcUrl();

    /** Address of the deployed GpuPoolBilling contract. */
    Optional<String> contractAddress();

    /** EIP-155 chain id (31337 = anvil). */
    @WithDefault("31337")
    long chainId();

    /** Time between settlement rounds; also the window a payer's escrow must cover to start. */
    @WithDefault("60s")
    Duration settlementInterval();

    /** Most (job, provider) pairs in one settlement transaction. */
    @WithDefault("100")
    int batchSize();

    /** Time between meterings of running pods (ended and deleted pods are metered at once). */
    @WithDefault("30s")
    Duration meteringInterval();

    /**
     * Namespace of the usage ConfigMaps; default: {@code POD_NAMESPACE}, else the client's
     * namespace (in a pod, its service account's), else {@code default}.
     */
    Optional<String> namespace();

    /** How long a payer's escrow may stay dry before its running jobs must be suspended. */
    @WithDefault("10m")
    Duration suspendGrace();

    /**
     * How long the chain's RPC may fail before the operator reports itself not ready
     * (BillingHealth): short outages are ridden out by the settlement backlog.
     */
    @WithDefault("10m")
    Duration rpcDownGrace();

    /** First block start-up reconciliation reads contract events from (the deployment block). */
    @WithDefault("0")
    long reconcileFromBlock();

    /** Depth a settlement's block must reach before it counts (1 = mined; the chain's finality). */
    @WithDefault("1")
    int confirmations();

    /** How often settled cursors are checked against the chain, to undo a deep reorganisation. */
    @WithDefault("10m")
    Duration recheckInterval();

    /** Symbol of the chain's native token, shown beside amounts (the COST column). */
    @WithDefault("ETH")
    String tokenSymbol();

    /**
     * With billing on, a job must be paid by a BillingAccount (named, or its namespace's only one);
     * false lets jobs without one run unbilled (private pools).
     */
    @WithDefault("true")
    boolean requireBudget();
  }

  /** Trust in providers: stake required for placement, disputes (docs/trust.md). */
  Trust trust();

  /** {@code GPUPOOL_TRUST_*}: the stake gate and disputes; disputes need billing on. */
  interface Trust {
    /**
     * Stake, in tokens, a provider must have committed on chain per GPU it offers for its nodes to
     * be used by placement; 0 turns the gate off. Needs billing on (stakes are read from the
     * contract): with billing off and a minimum set, every provider is left out.
     */
    @WithDefault("0")
    BigDecimal minStakePerGpu();

    /** How often providers' stakes are read from the chain. */
    @WithDefault("60s")
    Duration stakeRefresh();

    /**
     * Address rewarded when a dispute the operator opens ends as fraud; default: the operator's own
     * (verifier) address.
     */
    Optional<String> whistleblowerAddress();

    /** How long a dispute transaction may take to be mined before the filing is reported failed. */
    @WithDefault("2m")
    Duration disputeTimeout();

    /**
     * How long a dispute may stay open on chain before the operator resolves it as no fraud and the
     * frozen earnings are unfrozen; 0 turns the deadline off. Counted from the dispute's opening
     * (its block time), whoever opened it.
     */
    @WithDefault("7d")
    Duration disputeDeadline();

    /** Hardware challenges of the pool's nodes (docs/trust.md, "Hardware challenges"). */
    Challenge challenge();

    /**
     * Hardware challenges ({@code gpupool.trust.challenge.*}, {@code GPUPOOL_TRUST_CHALLENGE_*}):
     * when they run, how big they are, and how their timing is judged. Off by default; the Helm
     * chart's {@code trust.challenge.*} values set them, and the sandbox turns them on.
     */
    interface Challenge {
      /** Challenge nodes when they join and at random times after. */
      @WithDefault("false")
      boolean enabled();

      /**
       * Mean time between two challenges of one node after its first (exponentially distributed, so
       * a provider cannot predict the next one).
       */
      @WithDefault("6h")
      Duration meanInterval();

      /**
       * Most share of the pool's GPU time random challenges may take (over the last hour);
       * challenges of joining nodes always run.
       */
      @WithDefault("0.02")
      double budget();

      /** Most challenges running at once. */
      @WithDefault("4")
      int maxConcurrent();

      /** Side of the challenge's matrices (8..2048): the operator recomputes a few n³ products. */
      @WithDefault("512")
      int size();

      /**
       * Compute time a challenge should take on the claimed product; rounds are sized to it at the
       * product's measured rate ({@link #rates()}), or else at its catalog TFLOP/s, then at most
       * {@link #maxRounds()} (by default 240, so on fast uncalibrated GPUs the start-up allowance
       * dominates: docs/trust.md). Long enough against the start-up allowance that a late answer
       * can be re-rated: target × (1 / floor − tolerance) must exceed the allowance (45 s × 2.4 =
       * 108 s against 60 s; ChallengeDefaultsTest).
       */
      @WithDefault("45s")
      Duration target();

      /**
       * Most rounds of a challenge of a product without a measured rate ({@link #rates()}): 1..2²⁶,
       * with {@link #openings()} off 240 whatever this says. 240 by default: such a product is
       * timed by its datasheet TFLOP/s at {@link #efficiency()}, but the challenge program's
       * generation of each round's inputs is bound by a GPU's memory bandwidth, so millions of
       * rounds sized by TFLOP/s would make honest fast GPUs late. Calibrate the product instead of
       * raising it (docs/trust.md, "Hardware challenges").
       */
      @WithDefault("240")
      int maxRounds();

      /**
       * The challenge program's rates measured per GPU product, as {@code challenge.py --bench
       * SIZE} prints them on one node of the product: comma-separated entries {@code
       * PRODUCT@SIZE=ROUNDS_PER_SECOND} (rounds per second per GPU), each at {@link #size()}. A
       * product listed is sized to {@link #target()} at its rate (up to 2²⁶ committed rounds,
       * {@link #maxRounds()} not applying) and timed against it; the others by the catalog's
       * TFLOP/s × {@link #efficiency()}, at most {@link #maxRounds()} rounds. None by default: no
       * GPU's rate was measured for the project (docs/operations.md, "Calibrating challenges").
       */
      Optional<List<String>> rates();

      /** Rounds the operator recomputes to check an answer. */
      @WithDefault("4")
      int samples();

      /** Share of the datasheet TFLOP/s the challenge program reaches (calibration). */
      @WithDefault("0.4")
      double efficiency();

      /** Factor over the expected compute time still accepted. */
      @WithDefault("1.6")
      double tolerance();

      /**
       * The least share of the claimed product's speed a correctly answering node may be rated at
       * instead of quarantined (docs/trust.md, "Speed correction"): a node slower than its claim
       * but above this share is planned and priced at the speed measured; below it (an RTX 3090
       * claiming an H100 computes at 7 %), or slower again than its rating, it is quarantined as a
       * cheat. 1 turns correction off (every slow answer is quarantined).
       */
      @WithDefault("0.25")
      double speedCorrectionFloor();

      /** Time allowed for the challenge pod to be created and started, on top of compute time. */
      @WithDefault("60s")
      Duration startupAllowance();

      /** Image with examples/workloads/challenge.py. */
      @WithDefault("ghcr.io/gpupool/workloads:0.1")
      String image();

      /** Namespace of challenge pods; default POD_NAMESPACE, else the client's namespace. */
      Optional<String> namespace();

      /**
       * Commit-then-open (docs/trust.md): the challenge program commits to every product's digest
       * with a Merkle root, served over HTTP on the pod's IP, and opens the {@link #samples()}
       * leaves the operator draws after the root arrived; the operator recomputes only those. Off:
       * the program answers with every digest in its termination message (at most 240 rounds).
       * Needs the operator to reach pod IPs on {@link #openingPort()}: a pod network does by
       * default, and the chart's NetworkPolicy admits it. On by default, as in the chart.
       */
      @WithDefault("true")
      boolean openings();

      /**
       * Time a node has, from the operator's request, to open the leaves asked for; openings not
       * served in it are a failed opening (fraud evidence, as a wrong result).
       */
      @WithDefault("10s")
      Duration openingWindow();

      /** Port the challenge program serves its commitment and openings on. */
      @WithDefault("8471")
      int openingPort();

      /** How often running challenges are looked at and due ones started. */
      @WithDefault("1s")
      Duration tick();
    }
  }

  /** Tunables of the placement planner (gpu-scheduler). */
  interface Planner {
    /**
     * Model FLOPs utilisation: the share of a GPU's datasheet rate a real job reaches. Scales every
     * time estimate; it does not change which plan wins between similar jobs.
     */
    @WithDefault("0.4")
    double mfu();

    /**
     * How long a multi-GPU gang outside GpuQueues waits before the capacity it could use is held
     * for it (the longest waiting one), so that smaller jobs cannot starve it (docs/scheduling.md).
     */
    @WithDefault("2m")
    Duration holdAfter();
  }

  /** How Nodes are read and when a lost node costs a job its ranks. */
  interface Nodes {
    /**
     * How long a node may be NotReady before its ranks are re-placed; short blips on home links
     * should not restart a gang.
     */
    @WithDefault("60s")
    Duration lostGracePeriod();

    /** Informer resync period for Nodes; a safety net, not the normal update path. */
    @WithDefault("10m")
    Duration resyncPeriod();
  }

  /** Kubernetes Events the operator records for its decisions. */
  interface Events {
    /** Record Events at all (turn off only to reduce API load in very large benchmarks). */
    @WithDefault("true")
    boolean enabled();

    /** Component name events are reported from. */
    @WithDefault("gpupool-operator")
    String component();
  }

  /** Training spot-checks (docs/trust.md, "Training spot-checks"). */
  Verification verification();

  /** {@code GPUPOOL_VERIFICATION_*}: what spot-checks of training jobs are decided with. */
  interface Verification {
    /**
     * The secret behind the spot-check sampler (hex, at least 16 bytes); unset, each operator
     * process draws its own. Set it (from a Secret) to be able to reveal it later and let anyone
     * recheck which intervals were sampled.
     */
    Optional<String> samplingSecret();
  }
}
