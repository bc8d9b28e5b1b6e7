package io.gpupool.operator.inference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.CanaryComparison;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.InferenceVerification;
import io.gpupool.api.v1alpha1.InferenceVerificationStatus;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.verify.CanaryAnswer;
import io.gpupool.scheduler.verify.CanaryPrompts;
import io.gpupool.scheduler.verify.CrossCheck;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Canary cross-checks of an InferenceJob (spec.verification.mode CrossCheck). When a check is due,
 * the same seeded greedy prompts ({@link CanaryPrompts}) go to the leader of every ready replica at
 * once; {@link CrossCheck} groups the answers and names replicas that disagree with a majority of
 * providers. Each caught replica gets a Warning event, its node is quarantined, a dispute with the
 * evidence's hash is filed and resolved as fraud by {@link FraudDisputes} (the operator compared
 * the answers itself), and the caller deletes its group so the loop places a replacement elsewhere.
 *
 * <p>Canaries never reach the autoscaler: a check runs inside the job's reconcile after the load
 * was read and returns only when every canary was answered or timed out, and reconciles of one job
 * never overlap, so no scrape of the job's replicas sees a canary in flight. The rate is bounded by
 * spec.verification (at most {@code canariesPerCheck} per replica every {@code
 * canaryIntervalSeconds}, never under {@value InferenceVerification#MIN_INTERVAL_SECONDS} s), and
 * the last check's time lives in status, so a restarted operator keeps the rate.
 */
final class CrossChecker {
  private static final Logger LOG = Logger.getLogger(CrossChecker.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The longest a check waits for every answer (a replica that stalls does not count). */
  static final Duration ANSWER_WAIT = Duration.ofSeconds(15);

  private static final Duration NOT_READY_RECHECK = Duration.ofSeconds(2);

  /** Quarantines a node whose answers were found wrong. */
  @FunctionalInterface
  interface Quarantine {
    void node(String node, String provider, String product, String reason);
  }

  private final CanaryClient client;
  private final FraudDisputes fraud;
  private final Quarantine quarantine;
  private final EventRecorder events;
  private final CrossCheckMetrics metrics;
  private final LongSupplier seeds;

  CrossChecker(
      CanaryClient client,
      FraudDisputes fraud,
      Quarantine quarantine,
      EventRecorder events,
      CrossCheckMetrics metrics,
      LongSupplier seeds) {
    this.client = client;
    this.fraud = fraud;
    this.quarantine = quarantine;
    this.events = events;
    this.metrics = metrics;
    this.seeds = seeds;
  }

  /**
   * Runs a check when one is due and returns the groups caught (to be replaced); schedules the next
   * check through {@code s.recheckIn}.
   */
  List<ReplicaGroup> check(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s, List<ReplicaGroup> active) {
    InferenceVerification v = s.job.getSpec().verification;
    if (v == null || !v.crossChecks()) {
      return List.of();
    }
    Duration interval =
        Duration.ofSeconds(
            Math.max(
                InferenceVerification.MIN_INTERVAL_SECONDS, v.canaryIntervalSecondsOrDefault()));
    InferenceVerificationStatus st =
        s.status.verification == null ? new InferenceVerificationStatus() : s.status.verification;
    s.status.verification = st;
    Instant due = lastCheck(st).map(t -> t.plus(interval)).orElse(s.now);
    if (s.now.isBefore(due)) {
      s.recheckIn(Duration.between(s.now, due));
      return List.of();
    }
    List<ReplicaGroup> serving = active.stream().filter(g -> !g.draining()).toList();
    List<ReplicaGroup> ready =
        serving.stream().filter(g -> g.ready() && g.leader() != null).toList();
    if (ready.size() < serving.size() && s.now.isBefore(due.plus(interval))) {
      // a replica is starting: wait for it (up to one more interval) so that it is compared too
      s.recheckIn(NOT_READY_RECHECK);
      return List.of();
    }
    Set<String> providers = new HashSet<>();
    ready.forEach(g -> providers.add(provider(g.leader())));
    s.recheckIn(interval);
    if (providers.size() < 2) {
      // nothing to compare yet; look again once the replicas are up, without spending the interval
      s.recheckIn(Duration.ofSeconds(InferenceVerification.MIN_INTERVAL_SECONDS));
      return List.of();
    }
    long seed = seeds.getAsLong();
    List<String> prompts =
        CanaryPrompts.forSeed(
            seed,
            Math.min(v.canariesPerCheckOrDefault(), InferenceVerification.MAX_CANARIES_PER_CHECK));
    boolean logprobs = v.compareOrDefault() == CanaryComparison.Logprob;
    int port = s.job.getSpec().port == null ? 8000 : s.job.getSpec().port;
    Map<ReplicaGroup, Sent> sent = new LinkedHashMap<>();
    for (ReplicaGroup g : ready) {
      sent.put(g, send(g.leader(), port, prompts, v.maxTokensOrDefault(), seed, logprobs));
    }
    awaitAll(sent.values());
    List<CrossCheck.Reply> replies = new ArrayList<>();
    Map<String, ReplicaGroup> byReplica = new LinkedHashMap<>();
    double gpuSeconds = 0;
    for (Map.Entry<ReplicaGroup, Sent> e : sent.entrySet()) {
      ReplicaGroup g = e.getKey();
      String name = "replica " + g.replica() + " (" + g.leader().getMetadata().getName() + ")";
      byReplica.put(name, g);
      replies.add(new CrossCheck.Reply(name, provider(g.leader()), e.getValue().answers()));
      gpuSeconds += e.getValue().busySeconds() * gpus(g);
    }
    CrossCheck.Verdict verdict = CrossCheck.judge(replies, prompts.size(), comparison(v));
    st.checks = count(st.checks) + 1;
    if (verdict.outcome() != CrossCheck.Outcome.AGREED
        && verdict.outcome() != CrossCheck.Outcome.TOO_FEW_PROVIDERS) {
      st.disagreements = count(st.disagreements) + 1;
    }
    st.lastCheckTime = s.now.toString();
    st.lastResult = verdict.message();
    st.gpuSeconds = (st.gpuSeconds == null ? 0 : st.gpuSeconds) + gpuSeconds;
    metrics.interval(verdict.outcome().name());
    metrics.gpuSeconds(gpuSeconds);
    if (verdict.outcome() == CrossCheck.Outcome.INCONCLUSIVE) {
      events.record(s.job, EventRecorder.WARNING, "CanaryDisagreement", verdict.message());
    }
    List<ReplicaGroup> caught = new ArrayList<>();
    for (CrossCheck.Dissent d : verdict.dissents()) {
      ReplicaGroup g = byReplica.get(d.reply().replica());
      ReplicaGroup witness = byReplica.get(d.majority().replica());
      caught.add(g);
      st.disputes = count(st.disputes) + 1;
      act(s, g, witness, d, seed, prompts.get(d.prompt()), v);
    }
    LOG.infof("%s cross-check: %s", s.ref(), verdict.message());
    return caught;
  }

  /** Quarantine, event and dispute for one caught replica. */
  private void act(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      ReplicaGroup g,
      ReplicaGroup witness,
      CrossCheck.Dissent d,
      long seed,
      String prompt,
      InferenceVerification v) {
    Pod leader = g.leader();
    String provider = provider(leader);
    Set<String> groupProviders = new HashSet<>();
    g.pods().forEach(p -> groupProviders.add(provider(p)));
    String evidence = evidence(s.job, seed, prompt, d, leader, witness.leader(), v);
    EvidenceHash hash = EvidenceHash.sha256(evidence);
    LOG.warnf("%s canary evidence %s: %s", s.ref(), hash.hex(), evidence);
    String what =
        "replica "
            + g.replica()
            + " on "
            + leader.getSpec().getNodeName()
            + " ("
            + provider
            + ") answered canary \""
            + prompt
            + "\" unlike a majority of providers ("
            + d.why()
            + "; witness replica "
            + witness.replica()
            + " on "
            + witness.leader().getSpec().getNodeName()
            + ", "
            + provider(witness.leader())
            + "); evidence "
            + hash.hex();
    if (groupProviders.size() > 1) {
      // shards on several providers: the wrong answer cannot be pinned on one of them
      events.record(
          s.job,
          EventRecorder.WARNING,
          "CanaryMismatch",
          what + "; its shards span providers " + groupProviders + ": replaced, no dispute");
      return;
    }
    for (Pod p : g.pods()) {
      quarantine.node(
          p.getSpec().getNodeName(),
          provider,
          annotation(p, InferenceGroup.GPU_PRODUCT_ANNOTATION),
          "served answers unlike other providers' (canary cross-check of "
              + s.job.getMetadata().getNamespace()
              + "/"
              + s.job.getMetadata().getName()
              + ")");
    }
    events.record(
        s.job,
        EventRecorder.WARNING,
        "CanaryMismatch",
        what + "; node quarantined, replica replaced, dispute filed");
    JobRef job =
        new JobRef(
            InferenceGroup.KIND,
            s.job.getMetadata().getNamespace(),
            s.job.getMetadata().getName(),
            s.job.getMetadata().getUid());
    InferenceJob subject = s.job;
    fraud
        .proveOrSlash(
            job, provider, hash, "inference replica answered canaries unlike other providers")
        .thenAccept(
            outcome -> {
              metrics.dispute(outcome.filing().outcome().name());
              events.record(
                  subject,
                  outcome.punished() ? EventRecorder.NORMAL : EventRecorder.WARNING,
                  "CanaryDispute",
                  "dispute against " + provider + ": " + outcome.describe());
            });
  }

  /** The canonical record whose hash goes on chain: enough to replay the check. */
  static String evidence(
      InferenceJob job,
      long seed,
      String prompt,
      CrossCheck.Dissent d,
      Pod dissenter,
      Pod witness,
      InferenceVerification v) {
    ObjectNode root = JSON.createObjectNode();
    root.put("kind", "inference-canary");
    root.put("job", job.getMetadata().getNamespace() + "/" + job.getMetadata().getName());
    root.put("jobUid", job.getMetadata().getUid());
    root.put("seed", seed);
    root.put("prompt", prompt);
    root.put("maxTokens", v.maxTokensOrDefault());
    root.put("compare", v.compareOrDefault().name());
    root.set("dissenter", side(dissenter, d.reply().answers().get(d.prompt()).orElseThrow()));
    root.set("majority", side(witness, d.majority().answers().get(d.prompt()).orElseThrow()));
    root.put("why", d.why());
    return root.toString();
  }

  private static ObjectNode side(Pod pod, CanaryAnswer answer) {
    ObjectNode n = JSON.createObjectNode();
    n.put("pod", pod.getMetadata().getName());
    n.put("node", pod.getSpec().getNodeName());
    n.put("provider", provider(pod));
    n.put("text", answer.text());
    if (answer.hasLogprobs()) {
      var tokens = n.putArray("tokens");
      answer.tokens().forEach(tokens::add);
      var lps = n.putArray("logprobs");
      answer.logprobs().forEach(lps::add);
    }
    return n;
  }

  /** One replica's canaries in flight, and when each was sent and answered. */
  private record Sent(
      List<CompletableFuture<Optional<CanaryAnswer>>> futures, long[] sentNanos, long[] doneNanos) {
    List<Optional<CanaryAnswer>> answers() {
      List<Optional<CanaryAnswer>> out = new ArrayList<>();
      for (CompletableFuture<Optional<CanaryAnswer>> f : futures) {
        out.add(f.isDone() && !f.isCompletedExceptionally() ? f.join() : Optional.empty());
      }
      return out;
    }

    /** From the first canary sent to the last answered: the replica's time on canaries. */
    double busySeconds() {
      long first = Long.MAX_VALUE;
      long last = Long.MIN_VALUE;
      for (int i = 0; i < futures.size(); i++) {
        if (doneNanos[i] != 0) {
          first = Math.min(first, sentNanos[i]);
          last = Math.max(last, doneNanos[i]);
        }
      }
      return last < first ? 0 : (last - first) / 1e9;
    }
  }

  private Sent send(
      Pod leader, int port, List<String> prompts, int maxTokens, long seed, boolean logprobs) {
    List<CompletableFuture<Optional<CanaryAnswer>>> futures = new ArrayList<>();
    long[] sentAt = new long[prompts.size()];
    long[] doneAt = new long[prompts.size()];
    for (int i = 0; i < prompts.size(); i++) {
      int index = i;
      sentAt[i] = System.nanoTime();
      futures.add(
          client
              .complete(leader, port, prompts.get(i), maxTokens, seed, logprobs)
              .toCompletableFuture()
              .whenComplete((a, e) -> doneAt[index] = System.nanoTime()));
    }
    return new Sent(futures, sentAt, doneAt);
  }

  private static void awaitAll(Iterable<Sent> sent) {
    List<CompletableFuture<?>> all = new ArrayList<>();
    sent.forEach(x -> all.addAll(x.futures()));
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // unanswered canaries count as missing answers
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static io.gpupool.scheduler.verify.CanaryComparison comparison(InferenceVerification v) {
    return v.compareOrDefault() == CanaryComparison.Logprob
        ? new io.gpupool.scheduler.verify.CanaryComparison(
            io.gpupool.scheduler.verify.CanaryComparison.Mode.LOGPROB, v.toleranceOrDefault())
        : new io.gpupool.scheduler.verify.CanaryComparison(
            io.gpupool.scheduler.verify.CanaryComparison.Mode.EXACT_TOKENS, 0);
  }

  private static Optional<Instant> lastCheck(InferenceVerificationStatus st) {
    if (st.lastCheckTime == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(st.lastCheckTime));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** GPUs a group holds: whole GPUs, or shares in thousandths. */
  static double gpus(ReplicaGroup g) {
    double total = 0;
    for (Pod p : g.pods()) {
      int milli = intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000);
      total += milli < 1000 ? milli / 1000.0 : intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1);
    }
    return total;
  }

  private static int intAnnotation(Pod p, String key, int otherwise) {
    String v = annotation(p, key);
    try {
      return v == null ? otherwise : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  private static String annotation(Pod p, String key) {
    var a = p.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  static String provider(Pod p) {
    var l = p.getMetadata().getLabels();
    String v = l == null ? null : l.get(GpupoolApi.PROVIDER_LABEL);
    return v == null ? "unknown" : v;
  }

  private static long count(Long v) {
    return v == null ? 0 : v;
  }
}
