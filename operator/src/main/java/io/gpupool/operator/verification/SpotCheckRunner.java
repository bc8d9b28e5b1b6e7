package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.OwnedObjects;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.scheduler.verify.FraudEvidence;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.IntervalSampler;
import io.gpupool.scheduler.verify.RefereeVerdict;
import io.gpupool.scheduler.verify.SpotCheck;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Runs the spot-checks of a TrainingJob that asks for {@code spec.verification.mode: SpotCheck}
 * (docs/trust.md, "Training spot-checks"), one step per reconcile of the job.
 *
 * <p>The checkpoints the trainer committed are read from its rank-0 log; each interval between two
 * of them is decided in order: the {@link IntervalSampler} (a secret the operator holds) says
 * whether it is replayed. A replayed interval gets a verifier pod on another provider; a mismatch a
 * referee pod on a third; a proven cheat (the referee sides with the verifier, or the provider's
 * state files contradict its commitments) is disputed on chain for this job, the cheat's nodes are
 * quarantined, and the loop is told to re-place the gang off them from the last verified
 * checkpoint. Everything the check needs to continue after an operator restart is in {@code
 * status.verification}; its pods are the job's (owner reference, job labels, listed in status), so
 * they are metered to the job's payer and deleted with the job.
 */
public final class SpotCheckRunner {
  private static final Logger LOG = Logger.getLogger(SpotCheckRunner.class);

  /** How soon a running check or a running trainer's log is looked at again. */
  static final Duration POLL = Duration.ofSeconds(2);

  /** How soon a check placed (and listed in status) is looked at again to create its pod. */
  static final Duration CREATE_SOON = Duration.ofMillis(200);

  /** How soon a check that found no node for its pod tries again. */
  static final Duration NO_NODE_RECHECK = Duration.ofSeconds(5);

  /** Attempts per pod of an interval before the interval is given up as unchecked. */
  static final int ATTEMPTS = 3;

  static final String VERIFIER = "verifier";
  static final String REFEREE = "referee";

  /** One rank of the gang being checked. */
  public record Trainer(int rank, String node, String provider, String gpuProduct) {}

  /**
   * A proven cheat: the gang must leave {@code nodes} and resume from {@code resumeStep}.
   *
   * @param provider the GpuProvider at fault
   * @param nodes its nodes under the gang (now quarantined)
   * @param resumeStep the last verified checkpoint (0: the start)
   * @param message what was proven, for events and conditions
   */
  public record Cheat(String provider, Set<String> nodes, long resumeStep, String message) {}

  private final KubernetesClient client;
  private final PodLogs logs;
  private final CheckPlacer placer;
  private final TrustLedger trust;
  private final FraudDisputes fraud;
  private final EventRecorder events;
  private final VerificationMetrics metrics;
  private final byte[] secret;
  private final BiFunction<TrainingJob, Pod, Pod> billingTerms;
  private final Consumer<Pod> created;

  /**
   * @param secret the sampling secret (at least 16 bytes), never shown to providers
   * @param billingTerms writes the billing terms on a verification pod, as on a rank's
   * @param created shows a pod just created to the job's pod cache
   */
  public SpotCheckRunner(
      KubernetesClient client,
      CheckPlacer placer,
      TrustLedger trust,
      FraudDisputes fraud,
      EventRecorder events,
      VerificationMetrics metrics,
      byte[] secret,
      BiFunction<TrainingJob, Pod, Pod> billingTerms,
      Consumer<Pod> created) {
    this.client = client;
    this.logs = new PodLogs(client);
    this.placer = placer;
    this.trust = trust;
    this.fraud = fraud;
    this.events = events;
    this.metrics = metrics;
    this.secret = secret.clone();
    this.billingTerms = billingTerms;
    this.created = created;
  }

  /** True when the job asks for spot-checks. */
  public static boolean wanted(TrainingJob job) {
    return job.getSpec().verification != null && job.getSpec().verification.spotCheck();
  }

  /** The ledger key under which a job's verification pod holds its GPU. */
  public static String holder(TrainingJob job) {
    return "verification:"
        + PodGpus.holderKey(
            "TrainingJob", job.getMetadata().getNamespace(), job.getMetadata().getName());
  }

  /**
   * True while a checkpoint the trainer committed has not been decided or a check is running: the
   * job is not Succeeded before its last interval had its chance to be checked.
   */
  public static boolean unsettled(TrainingJobStatus status) {
    TrainingVerificationStatus v = status.verification;
    return v != null
        && ((v.pendingCheckpoints != null && !v.pendingCheckpoints.isEmpty())
            || inFlight(v).isPresent());
  }

  /** Frees the GPU a check holds (the job was released: finished, suspended or deleted). */
  public void release(TrainingJob job) {
    placer.release(holder(job));
  }

  /**
   * One step of the job's checks.
   *
   * @param trainers the current gang's ranks
   * @param rankZero the current gang's rank-0 pod, when it exists
   * @return a proven cheat the loop must act on
   */
  public Optional<Cheat> step(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<Trainer> trainers,
      Optional<Pod> rankZero) {
    TrainingJob job = s.job;
    TrainingVerificationStatus v = initialised(s.status);
    Optional<List<String>> script = VerifierPods.script(job);
    if (script.isEmpty()) {
      s.condition(
          VerifiedCondition.TYPE,
          false,
          "NotVerifiable",
          "spec.verification asks for SpotCheck, but the job's command runs no Python script a"
              + " verifier could replay (docs/workloads.md, \"Commitments\")");
      return Optional.empty();
    }
    rankZero.ifPresent(pod -> readCheckpoints(job, v, pod));
    if (finished(rankZero) && v.checkedThrough == 0 && v.pendingCheckpoints.isEmpty()) {
      s.condition(
          VerifiedCondition.TYPE,
          false,
          "NoCheckpoints",
          "rank 0 ended without a GPUPOOL-CHECKPOINT line in its log: there was no committed"
              + " interval to check (docs/workloads.md, \"Commitments\")");
    }
    Optional<VerificationPod> running = inFlight(v);
    if (running.isPresent()) {
      Optional<Cheat> cheat = follow(s, v, running.get(), trainers, script.get());
      if (cheat.isPresent()) {
        return cheat;
      }
    }
    if (inFlight(v).isEmpty()) {
      startNext(s, v, trainers, script.get());
    }
    if (unsettled(s.status) || !finished(rankZero)) {
      s.recheckIn(POLL);
    }
    return Optional.empty();
  }

  private static TrainingVerificationStatus initialised(TrainingJobStatus status) {
    if (status.verification == null) {
      status.verification = new TrainingVerificationStatus();
    }
    TrainingVerificationStatus v = status.verification;
    v.sampledIntervals = v.sampledIntervals == null ? 0 : v.sampledIntervals;
    v.verifiedIntervals = v.verifiedIntervals == null ? 0 : v.verifiedIntervals;
    v.failedIntervals = v.failedIntervals == null ? 0 : v.failedIntervals;
    v.disputes = v.disputes == null ? 0 : v.disputes;
    v.checkedThrough = v.checkedThrough == null ? 0L : v.checkedThrough;
    v.lastVerifiedCheckpoint = v.lastVerifiedCheckpoint == null ? 0L : v.lastVerifiedCheckpoint;
    v.gpuSeconds = v.gpuSeconds == null ? "0" : v.gpuSeconds;
    if (v.pendingCheckpoints == null) {
      v.pendingCheckpoints = new ArrayList<>();
    }
    if (v.pods == null) {
      v.pods = new ArrayList<>();
    }
    return v;
  }

  private static Optional<VerificationPod> inFlight(TrainingVerificationStatus v) {
    return v.pods == null
        ? Optional.empty()
        : v.pods.stream().filter(p -> p.outcome == null).findFirst();
  }

  private static boolean finished(Optional<Pod> pod) {
    return pod.map(PodGpus::terminal).orElse(false);
  }

  /** Adds the checkpoints rank 0 committed since the last one known. */
  private void readCheckpoints(TrainingJob job, TrainingVerificationStatus v, Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Running".equals(phase) && !"Succeeded".equals(phase)) {
      return;
    }
    long known =
        v.pendingCheckpoints.isEmpty()
            ? v.checkedThrough
            : v.pendingCheckpoints.get(v.pendingCheckpoints.size() - 1);
    logs.read(pod)
        .ifPresent(log -> v.pendingCheckpoints.addAll(CheckpointLog.stepsAfter(log, known)));
  }

  /** Decides the next interval: skipped by the sampler, or a verifier placed for it. */
  private void startNext(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      List<Trainer> trainers,
      List<String> script) {
    TrainingJob job = s.job;
    IntervalSampler sampler =
        new IntervalSampler(secret, job.getSpec().verification.sampleRateOrDefault());
    while (!v.pendingCheckpoints.isEmpty()) {
      long from = v.checkedThrough;
      long to = v.pendingCheckpoints.get(0);
      if (!sampler.sampled(job.getMetadata().getUid(), from)) {
        v.pendingCheckpoints.remove(0);
        CheckCursor.decided(v, from, to, CheckCursor.Decision.UNSAMPLED);
        continue;
      }
      Optional<VerificationPod> mismatch =
          v.pods.stream()
              .filter(p -> matches(v, p, VERIFIER, from, to) && "mismatch".equals(p.outcome))
              .reduce((a, b) -> b);
      if (mismatch.isPresent()) {
        // The replay differed and the referee has not spoken (its pod failed or found no node).
        if (attempts(v, REFEREE, from, to) >= ATTEMPTS) {
          giveUp(s, v, from, to, "its referee failed " + ATTEMPTS + " times");
          continue;
        }
        Set<String> barred = providers(trainers);
        barred.add(mismatch.get().provider);
        place(
            s,
            v,
            barred,
            REFEREE,
            from,
            to,
            mismatch.get().step,
            mismatch.get().rank,
            script,
            "referee interval");
        return;
      }
      if (attempts(v, VERIFIER, from, to) >= ATTEMPTS) {
        giveUp(s, v, from, to, "its verifier failed " + ATTEMPTS + " times");
        continue;
      }
      Set<String> barred = providers(trainers);
      Optional<VerificationPod> placed =
          place(s, v, barred, VERIFIER, from, to, null, null, script, "replay interval");
      if (placed.isPresent() && attempts(v, VERIFIER, from, to) == 1) {
        v.sampledIntervals++;
      }
      return;
    }
  }

  private void giveUp(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      long from,
      long to,
      String why) {
    v.pendingCheckpoints.remove(Long.valueOf(to));
    CheckCursor.decided(v, from, to, CheckCursor.Decision.UNCHECKED);
    String message =
        String.format(
            Locale.ROOT,
            "interval %d..%d left unchecked: %s; the last verified checkpoint stays at step %d",
            from,
            to,
            why,
            v.lastVerifiedCheckpoint);
    s.condition(VerifiedCondition.TYPE, false, "CheckFailed", message);
    events.record(s.job, EventRecorder.WARNING, "SpotCheckFailed", message);
  }

  private static int attempts(TrainingVerificationStatus v, String role, long from, long to) {
    return (int) v.pods.stream().filter(p -> matches(v, p, role, from, to)).count();
  }

  /** A pod of this role for this interval since the last rewind (a proven cheat). */
  private static boolean matches(
      TrainingVerificationStatus v, VerificationPod p, String role, long from, long to) {
    return role.equals(p.role)
        && p.fromStep == from
        && p.toStep == to
        && (p.epoch == null ? 0 : p.epoch) == v.disputes;
  }

  private static Set<String> providers(List<Trainer> trainers) {
    return trainers.stream().map(Trainer::provider).collect(Collectors.toCollection(TreeSet::new));
  }

  /** Places and creates a verification pod; empty (and a condition saying why) when none fits. */
  private Optional<VerificationPod> place(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      Set<String> barred,
      String role,
      long from,
      long to,
      Long step,
      Integer rank,
      List<String> script,
      String what) {
    TrainingJob job = s.job;
    // The check reads the job's checkpoints and data: it stays in the regions the job may use.
    Set<String> regions =
        job.getSpec().placement == null || job.getSpec().placement.regions == null
            ? Set.of()
            : Set.copyOf(job.getSpec().placement.regions);
    CheckPlacer.Choice choice = placer.place(holder(job), barred, regions);
    if (choice.node().isEmpty()) {
      String message =
          String.format(
              Locale.ROOT, "interval %d..%d waits for a %s: %s", from, to, role, choice.reason());
      s.condition(VerifiedCondition.TYPE, false, "NoVerifierNode", message);
      s.recheckIn(NO_NODE_RECHECK);
      return Optional.empty();
    }
    CheckPlacer.Node node = choice.node().get();
    int attempt = attempts(v, role, from, to) + 1;
    VerificationPod entry = new VerificationPod();
    // Names stay unique: a rewind checks an interval again, a failed pod is tried again.
    entry.pod =
        job.getMetadata().getName()
            + (REFEREE.equals(role)
                ? "-referee-" + step + "-r" + rank
                : "-verify-" + from + "-" + to)
            + (v.disputes > 0 ? "-e" + v.disputes : "")
            + (attempt > 1 ? "-a" + attempt : "");
    entry.node = node.name();
    entry.provider = node.provider();
    entry.role = role;
    entry.fromStep = from;
    entry.toStep = to;
    entry.step = step;
    entry.rank = rank;
    entry.epoch = v.disputes;
    entry.created = false;
    // Listed in status first and created by the next step: the meter bills only pods the job's
    // status names, and a pod it saw end before that would never be billed.
    v.pods.add(entry);
    String message =
        String.format(
            Locale.ROOT,
            "%s on %s (%s, provider %s): %s %d..%d%s",
            role,
            node.name(),
            node.gpuProduct(),
            node.provider(),
            what,
            from,
            to,
            step == null ? "" : ", step " + step + " of rank " + rank);
    events.record(job, EventRecorder.NORMAL, "SpotCheckStarted", message);
    s.recheckIn(CREATE_SOON);
    return Optional.of(entry);
  }

  /** Creates the pod of a check that status lists (the step after it was placed). */
  private void create(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      VerificationPod entry,
      List<String> script) {
    TrainingJob job = s.job;
    Pod pod =
        REFEREE.equals(entry.role)
            ? VerifierPods.referee(
                job, script, entry.node, entry.fromStep, entry.toStep, entry.step, entry.rank)
            : VerifierPods.verifier(job, script, entry.node, entry.fromStep, entry.toStep);
    pod.getMetadata().setName(entry.pod);
    Map<String, String> labels = new HashMap<>(pod.getMetadata().getLabels());
    labels.put(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName());
    labels.put(GpupoolApi.JOB_KIND_LABEL, "TrainingJob");
    labels.put(GpupoolApi.PROVIDER_LABEL, entry.provider);
    pod.getMetadata().setLabels(labels);
    pod.getMetadata().setOwnerReferences(List.of(OwnedObjects.controllerReference(job)));
    entry.created = true;
    try {
      Pod made =
          client
              .pods()
              .inNamespace(job.getMetadata().getNamespace())
              .resource(billingTerms.apply(job, pod))
              .create();
      created.accept(made);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return; // created by an earlier step whose status write was lost: follow that one
      }
      entry.outcome = "not_created";
      placer.release(holder(job));
      LOG.warnf("%s: %s pod %s not created: %s", s.ref(), entry.role, entry.pod, e.getMessage());
      s.recheckIn(NO_NODE_RECHECK);
    }
  }

  /** Looks at the running check's pod and acts on its result. */
  private Optional<Cheat> follow(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      List<Trainer> trainers,
      List<String> script) {
    TrainingJob job = s.job;
    if (Boolean.FALSE.equals(entry.created)) {
      create(s, entry, script);
      s.recheckIn(POLL);
      return Optional.empty();
    }
    Pod pod;
    try {
      pod = client.pods().inNamespace(job.getMetadata().getNamespace()).withName(entry.pod).get();
    } catch (KubernetesClientException e) {
      s.recheckIn(POLL);
      return Optional.empty();
    }
    if (pod == null || pod.getMetadata().getDeletionTimestamp() != null) {
      conclude(s, v, entry, "lost", null);
      s.recheckIn(POLL);
      return Optional.empty();
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Failed".equals(phase)) {
      conclude(s, v, entry, "error", pod);
      events.record(
          job,
          EventRecorder.WARNING,
          "SpotCheckPodFailed",
          entry.role + " pod " + entry.pod + " on " + entry.node + " failed; trying again");
      s.recheckIn(POLL);
      return Optional.empty();
    }
    if (!"Succeeded".equals(phase)) {
      s.recheckIn(POLL);
      return Optional.empty();
    }
    Optional<String> result = result(job, pod);
    if (result.isEmpty()) {
      conclude(s, v, entry, "error", pod);
      events.record(
          job,
          EventRecorder.WARNING,
          "SpotCheckPodFailed",
          entry.role + " pod " + entry.pod + " ended without a GPUPOOL-VERIFICATION result");
      s.recheckIn(POLL);
      return Optional.empty();
    }
    try {
      return VERIFIER.equals(entry.role)
          ? verified(s, v, entry, pod, result.get(), trainers, script)
          : refereed(s, v, entry, pod, result.get(), trainers);
    } catch (IllegalArgumentException e) {
      conclude(s, v, entry, "error", pod);
      events.record(
          job,
          EventRecorder.WARNING,
          "SpotCheckPodFailed",
          entry.role + " pod " + entry.pod + " reported nonsense: " + e.getMessage());
      s.recheckIn(POLL);
      return Optional.empty();
    }
  }

  /** The pod's result: its termination message, or the marked line of its log. */
  private Optional<String> result(TrainingJob job, Pod pod) {
    List<ContainerStatus> statuses =
        pod.getStatus().getContainerStatuses() == null
            ? List.of()
            : pod.getStatus().getContainerStatuses();
    for (ContainerStatus cs : statuses) {
      if (cs.getState() != null
          && cs.getState().getTerminated() != null
          && cs.getState().getTerminated().getMessage() != null
          && cs.getState().getTerminated().getMessage().trim().startsWith("{")) {
        return Optional.of(cs.getState().getTerminated().getMessage().trim());
      }
    }
    return logs.read(pod).flatMap(VerifierOutput::resultLine);
  }

  private Optional<Cheat> verified(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      Pod pod,
      String json,
      List<Trainer> trainers,
      List<String> script) {
    TrainingJob job = s.job;
    double tolerance = job.getSpec().verification.toleranceOrDefault();
    Map<Integer, IntervalReport> reports = VerifierOutput.interval(json);
    long from = entry.fromStep;
    long to = entry.toStep;
    Map<Integer, SpotCheck.Judgement> judgements = new TreeMap<>();
    for (Trainer t : trainers) {
      IntervalReport report = reports.get(t.rank());
      SpotCheck.Judgement judged =
          report == null
              ? new SpotCheck.Judgement(
                  SpotCheck.Outcome.BROKEN_COMMITMENT,
                  to,
                  0,
                  String.format(
                      Locale.ROOT,
                      "interval %d..%d: rank %d committed nothing",
                      from,
                      to,
                      t.rank()))
              : SpotCheck.judge(report, tolerance);
      judgements.put(t.rank(), judged);
    }
    for (Trainer t : trainers) {
      SpotCheck.Judgement judged = judgements.get(t.rank());
      if (judged.outcome() == SpotCheck.Outcome.BROKEN_COMMITMENT) {
        conclude(s, v, entry, "broken_commitment", pod);
        v.failedIntervals++;
        metrics.checked(VerificationMetrics.TRAINING, "broken_commitment");
        FraudEvidence evidence =
            new FraudEvidence(
                jobId(job),
                t.provider(),
                from,
                to,
                "broken",
                Double.POSITIVE_INFINITY,
                0,
                tolerance);
        return Optional.of(
            cheat(
                s,
                v,
                t,
                trainers,
                evidence,
                "BrokenCommitment",
                "rank " + t.rank() + ": " + judged.message()));
      }
    }
    // The rank whose replay differs first is refereed: in a pipeline a stage's wrong step makes
    // its neighbours differ from the next step on, and a referee recomputing a neighbour's later
    // step from the committed states would build on the wrong one and clear it.
    OptionalInt first = SpotCheck.firstMismatch(judgements);
    if (first.isPresent()) {
      int rank = first.getAsInt();
      SpotCheck.Judgement judged = judgements.get(rank);
      conclude(s, v, entry, "mismatch", pod);
      entry.step = judged.step(); // what the referee recomputes, kept for a retry
      entry.rank = rank;
      v.failedIntervals++;
      String message = "rank " + rank + ": " + judged.message();
      s.condition(VerifiedCondition.TYPE, false, "Mismatch", message + "; a referee decides");
      events.record(job, EventRecorder.WARNING, "SpotCheckMismatch", message);
      Set<String> barred = providers(trainers);
      barred.add(entry.provider);
      place(s, v, barred, REFEREE, from, to, judged.step(), rank, script, "referee interval");
      return Optional.empty();
    }
    String worst =
        judgements.isEmpty()
            ? null
            : judgements.get(trainers.get(trainers.size() - 1).rank()).message();
    conclude(s, v, entry, "verified", pod);
    v.verifiedIntervals++;
    v.pendingCheckpoints.remove(Long.valueOf(to));
    CheckCursor.decided(v, from, to, CheckCursor.Decision.VERIFIED);
    metrics.checked(VerificationMetrics.TRAINING, "verified");
    passed(s, v, worst == null ? "interval " + from + ".." + to + " replayed" : worst);
    return Optional.empty();
  }

  private Optional<Cheat> refereed(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      Pod pod,
      String json,
      List<Trainer> trainers) {
    TrainingJob job = s.job;
    double tolerance = job.getSpec().verification.toleranceOrDefault();
    VerifierOutput.RefereeResult r = VerifierOutput.referee(json);
    RefereeVerdict verdict =
        RefereeVerdict.decide(r.step(), r.toProvider(), r.toVerifier(), tolerance);
    long from = entry.fromStep;
    long to = entry.toStep;
    String outcome = verdict.outcome().name().toLowerCase(Locale.ROOT);
    conclude(s, v, entry, outcome, pod);
    metrics.checked(VerificationMetrics.TRAINING, outcome);
    Optional<Trainer> trainer = trainers.stream().filter(t -> t.rank() == r.rank()).findFirst();
    if (verdict.outcome() == RefereeVerdict.Outcome.PROVIDER_AT_FAULT && trainer.isPresent()) {
      FraudEvidence evidence =
          new FraudEvidence(
              jobId(job),
              trainer.get().provider(),
              from,
              r.step(),
              VerifierOutput.committedDigest(json).orElse("unreported"),
              r.toProvider(),
              r.toVerifier(),
              tolerance);
      return Optional.of(
          cheat(
              s,
              v,
              trainer.get(),
              trainers,
              evidence,
              "ProviderAtFault",
              "rank " + r.rank() + " (interval " + from + ".." + to + "): " + verdict.message()));
    }
    v.pendingCheckpoints.remove(Long.valueOf(to));
    // The referee upheld the provider's step: the interval stands. Inconclusive blames nobody and
    // verifies nothing.
    CheckCursor.decided(
        v,
        from,
        to,
        verdict.outcome() == RefereeVerdict.Outcome.VERIFIER_AT_FAULT
            ? CheckCursor.Decision.VERIFIED
            : CheckCursor.Decision.UNCHECKED);
    String message = "interval " + from + ".." + to + ": " + outcome + ", " + verdict.message();
    events.record(job, EventRecorder.NORMAL, "SpotCheckRefereed", message);
    if (verdict.outcome() == RefereeVerdict.Outcome.VERIFIER_AT_FAULT) {
      passed(s, v, message);
    } else {
      s.condition(VerifiedCondition.TYPE, false, "Inconclusive", message);
    }
    return Optional.empty();
  }

  private void passed(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      String latest) {
    String message =
        String.format(
            Locale.ROOT,
            "%d of %d sampled intervals verified, last verified checkpoint step %d%s; %s",
            v.verifiedIntervals,
            v.sampledIntervals,
            v.lastVerifiedCheckpoint,
            v.disputes > 0 ? " (after " + v.disputes + " dispute(s))" : "",
            latest);
    s.condition(VerifiedCondition.TYPE, true, "SpotChecksPassed", message);
    events.record(s.job, EventRecorder.NORMAL, "SpotCheckPassed", latest);
  }

  /** Quarantines the cheat's nodes, disputes on chain, and rewinds the cursor. */
  private Cheat cheat(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      Trainer cheat,
      List<Trainer> trainers,
      FraudEvidence evidence,
      String reason,
      String what) {
    TrainingJob job = s.job;
    Set<String> nodes = new LinkedHashSet<>();
    for (Trainer t : trainers) {
      if (t.provider().equals(cheat.provider())) {
        nodes.add(t.node());
        trust.quarantineForWork(
            t.node(),
            t.provider(),
            t.gpuProduct(),
            "training spot-check of " + s.ref() + ": " + what);
      }
    }
    EvidenceHash hash = EvidenceHash.sha256(evidence.bytes());
    v.disputes++;
    fileDispute(job, cheat.provider(), hash, what);
    long resume = v.lastVerifiedCheckpoint;
    v.pendingCheckpoints.clear();
    v.checkedThrough = resume;
    String message =
        String.format(
            Locale.ROOT,
            "provider %s cheated (%s); its node(s) %s quarantined, dispute filed with evidence %s…;"
                + " the gang resumes from the last verified checkpoint, step %d",
            cheat.provider(),
            what,
            String.join(", ", nodes),
            hash.hex().substring(0, 18),
            resume);
    s.condition(VerifiedCondition.TYPE, false, reason, message);
    events.record(job, EventRecorder.WARNING, reason, message);
    LOG.warnf("%s: %s", s.ref(), message);
    return new Cheat(cheat.provider(), nodes, resume, message);
  }

  private void fileDispute(TrainingJob job, String provider, EvidenceHash hash, String what) {
    JobRef ref =
        new JobRef(
            "TrainingJob",
            job.getMetadata().getNamespace(),
            job.getMetadata().getName(),
            job.getMetadata().getUid());
    fraud
        .proveOrSlash(ref, provider, hash, "training spot-check: " + what)
        .thenAccept(
            outcome -> {
              metrics.disputed(VerificationMetrics.TRAINING, outcome.filing().outcome());
              events.record(
                  job,
                  outcome.punished() ? EventRecorder.NORMAL : EventRecorder.WARNING,
                  "SpotCheckDispute",
                  provider + ": " + outcome.describe());
            });
  }

  /** Marks a check's pod as done, counts its GPU time, and frees its GPU. */
  private void conclude(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      String outcome,
      Pod pod) {
    entry.outcome = outcome;
    double seconds = pod == null ? 0 : gpuSeconds(pod);
    entry.gpuSeconds = String.format(Locale.ROOT, "%.1f", seconds);
    v.gpuSeconds = String.format(Locale.ROOT, "%.1f", Double.parseDouble(v.gpuSeconds) + seconds);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, seconds);
    placer.release(holder(s.job));
  }

  /**
   * Its GPUs from the container's start (not before the pod was created, as the meter counts) to
   * its end, the pod's own times as the kubelet wrote them.
   */
  static double gpuSeconds(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return 0;
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      var t = cs.getState() == null ? null : cs.getState().getTerminated();
      if (t != null && t.getStartedAt() != null && t.getFinishedAt() != null) {
        Instant start = Instant.parse(t.getStartedAt());
        String created = pod.getMetadata().getCreationTimestamp();
        if (created != null && Instant.parse(created).isAfter(start)) {
          start = Instant.parse(created);
        }
        Duration d = Duration.between(start, Instant.parse(t.getFinishedAt()));
        return Math.max(0, d.toMillis() / 1000.0) * PodGpus.slots(pod);
      }
    }
    return 0;
  }

  private static String jobId(TrainingJob job) {
    return job.getMetadata().getNamespace()
        + "/"
        + job.getMetadata().getName()
        + " "
        + job.getMetadata().getUid();
  }
}
