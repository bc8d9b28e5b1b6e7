package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.scheduler.verify.IntervalSampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
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
 *
 * <p>This class keeps the order of the checks (which interval next, when to give up); {@link
 * CheckPods} places and creates their pods, {@link CheckVerdicts} judges what a pod reported,
 * {@link CheatResponse} acts on a proven cheat and {@link CheckConcluder} closes a pod's account.
 */
public final class SpotCheckRunner {
  private static final Logger LOG = Logger.getLogger(SpotCheckRunner.class);

  /** How soon a running check or a running trainer's log is looked at again. */
  static final Duration POLL = Duration.ofSeconds(2);

  /** Attempts per pod of an interval before the interval is given up as unchecked. */
  static final int ATTEMPTS = 3;

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
  private final EventRecorder events;
  private final byte[] secret;
  private final CheckPods pods;
  private final CheckConcluder concluder;
  private final CheckVerdicts verdicts;

  /**
   * @param secret the sampling secret (at least 16 bytes), never shown to providers
   * @param binding creates a verification pod as a rank's: its billing terms recorded first, off
   *     the reconcile thread, and the job woken after
   */
  public SpotCheckRunner(
      KubernetesClient client,
      CheckPlacer placer,
      TrustLedger trust,
      FraudDisputes fraud,
      EventRecorder events,
      VerificationMetrics metrics,
      byte[] secret,
      JobBinding<TrainingJob> binding) {
    this.client = client;
    this.logs = new PodLogs(client);
    this.placer = placer;
    this.events = events;
    this.secret = secret.clone();
    this.pods = new CheckPods(placer, events, binding);
    this.concluder = new CheckConcluder(placer, metrics);
    this.verdicts =
        new CheckVerdicts(
            logs,
            pods,
            concluder,
            new CheatResponse(trust, fraud, events, metrics),
            events,
            metrics);
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

  /** The key the binder creates the job's verification pods under, apart from its gangs'. */
  public static String bindingKey(TrainingJob job) {
    return "verification:" + job.getMetadata().getUid();
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
      startNext(s, v, trainers);
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
      List<Trainer> trainers) {
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
              .filter(
                  p ->
                      CheckPods.matches(v, p, CheckPods.VERIFIER, from, to)
                          && "mismatch".equals(p.outcome))
              .reduce((a, b) -> b);
      if (mismatch.isPresent()) {
        // The replay differed and the referee has not spoken (its pod failed or found no node).
        if (CheckPods.attempts(v, CheckPods.REFEREE, from, to) >= ATTEMPTS) {
          giveUp(s, v, from, to, "its referee failed " + ATTEMPTS + " times");
          continue;
        }
        Set<String> barred = CheckPods.providers(trainers);
        barred.add(mismatch.get().provider);
        pods.place(
            s,
            v,
            barred,
            CheckPods.REFEREE,
            from,
            to,
            mismatch.get().step,
            mismatch.get().rank,
            "referee interval");
        return;
      }
      if (CheckPods.attempts(v, CheckPods.VERIFIER, from, to) >= ATTEMPTS) {
        giveUp(s, v, from, to, "its verifier failed " + ATTEMPTS + " times");
        continue;
      }
      Set<String> barred = CheckPods.providers(trainers);
      Optional<VerificationPod> placed =
          pods.place(s, v, barred, CheckPods.VERIFIER, from, to, null, null, "replay interval");
      if (placed.isPresent() && CheckPods.attempts(v, CheckPods.VERIFIER, from, to) == 1) {
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

  /** Looks at the running check's pod and acts on its result. */
  private Optional<Cheat> follow(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      List<Trainer> trainers,
      List<String> script) {
    TrainingJob job = s.job;
    if (Boolean.FALSE.equals(entry.created)) {
      pods.create(s, entry, script);
      s.recheckIn(POLL);
      return Optional.empty();
    }
    if (pods.creating(s, entry)) {
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
      concluder.conclude(s, v, entry, "lost", null);
      s.recheckIn(POLL);
      return Optional.empty();
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Failed".equals(phase)) {
      concluder.conclude(s, v, entry, "error", pod);
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
    Optional<String> result = verdicts.result(job, pod);
    if (result.isEmpty()) {
      concluder.conclude(s, v, entry, "error", pod);
      events.record(
          job,
          EventRecorder.WARNING,
          "SpotCheckPodFailed",
          entry.role + " pod " + entry.pod + " ended without a GPUPOOL-VERIFICATION result");
      s.recheckIn(POLL);
      return Optional.empty();
    }
    try {
      return CheckPods.VERIFIER.equals(entry.role)
          ? verdicts.verified(s, v, entry, pod, result.get(), trainers)
          : verdicts.refereed(s, v, entry, pod, result.get(), trainers);
    } catch (IllegalArgumentException e) {
      concluder.conclude(s, v, entry, "error", pod);
      events.record(
          job,
          EventRecorder.WARNING,
          "SpotCheckPodFailed",
          entry.role + " pod " + entry.pod + " reported nonsense: " + e.getMessage());
      s.recheckIn(POLL);
      return Optional.empty();
    }
  }
}
