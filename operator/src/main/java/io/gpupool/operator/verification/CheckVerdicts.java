package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.scheduler.verify.FraudEvidence;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.RefereeVerdict;
import io.gpupool.scheduler.verify.SpotCheck;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * Acts on what a finished check's pod reported: a verifier's replay of every rank judged against
 * the tolerance (verified, a broken commitment, or the first differing rank sent to a referee), a
 * referee's recomputed step deciding between provider and verifier.
 */
final class CheckVerdicts {
  private final PodLogs logs;
  private final CheckPods pods;
  private final CheckConcluder concluder;
  private final CheatResponse cheats;
  private final EventRecorder events;
  private final VerificationMetrics metrics;

  CheckVerdicts(
      PodLogs logs,
      CheckPods pods,
      CheckConcluder concluder,
      CheatResponse cheats,
      EventRecorder events,
      VerificationMetrics metrics) {
    this.logs = logs;
    this.pods = pods;
    this.concluder = concluder;
    this.cheats = cheats;
    this.events = events;
    this.metrics = metrics;
  }

  /** The pod's result: its termination message, or the marked line of its log. */
  Optional<String> result(TrainingJob job, Pod pod) {
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

  Optional<SpotCheckRunner.Cheat> verified(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      Pod pod,
      String json,
      List<SpotCheckRunner.Trainer> trainers) {
    TrainingJob job = s.job;
    double tolerance = job.getSpec().verification.toleranceOrDefault();
    Map<Integer, IntervalReport> reports = VerifierOutput.interval(json);
    long from = entry.fromStep;
    long to = entry.toStep;
    Map<Integer, SpotCheck.Judgement> judgements = new TreeMap<>();
    for (SpotCheckRunner.Trainer t : trainers) {
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
    for (SpotCheckRunner.Trainer t : trainers) {
      SpotCheck.Judgement judged = judgements.get(t.rank());
      if (judged.outcome() == SpotCheck.Outcome.BROKEN_COMMITMENT) {
        concluder.conclude(s, v, entry, "broken_commitment", pod);
        v.failedIntervals++;
        metrics.checked(VerificationMetrics.TRAINING, "broken_commitment");
        FraudEvidence evidence =
            new FraudEvidence(
                CheatResponse.jobId(job),
                t.provider(),
                from,
                to,
                "broken",
                Double.POSITIVE_INFINITY,
                0,
                tolerance);
        return Optional.of(
            cheats.respond(
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
      concluder.conclude(s, v, entry, "mismatch", pod);
      entry.step = judged.step(); // what the referee recomputes, kept for a retry
      entry.rank = rank;
      v.failedIntervals++;
      String message = "rank " + rank + ": " + judged.message();
      s.condition(VerifiedCondition.TYPE, false, "Mismatch", message + "; a referee decides");
      events.record(job, EventRecorder.WARNING, "SpotCheckMismatch", message);
      Set<String> barred = CheckPods.providers(trainers);
      barred.add(entry.provider);
      pods.place(
          s, v, barred, CheckPods.REFEREE, from, to, judged.step(), rank, "referee interval");
      return Optional.empty();
    }
    String worst =
        judgements.isEmpty()
            ? null
            : judgements.get(trainers.get(trainers.size() - 1).rank()).message();
    concluder.conclude(s, v, entry, "verified", pod);
    v.verifiedIntervals++;
    v.pendingCheckpoints.remove(Long.valueOf(to));
    CheckCursor.decided(v, from, to, CheckCursor.Decision.VERIFIED);
    metrics.checked(VerificationMetrics.TRAINING, "verified");
    passed(s, v, worst == null ? "interval " + from + ".." + to + " replayed" : worst);
    return Optional.empty();
  }

  Optional<SpotCheckRunner.Cheat> refereed(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      Pod pod,
      String json,
      List<SpotCheckRunner.Trainer> trainers) {
    TrainingJob job = s.job;
    double tolerance = job.getSpec().verification.toleranceOrDefault();
    VerifierOutput.RefereeResult r = VerifierOutput.referee(json);
    RefereeVerdict verdict =
        RefereeVerdict.decide(r.step(), r.toProvider(), r.toVerifier(), tolerance);
    long from = entry.fromStep;
    long to = entry.toStep;
    String outcome = verdict.outcome().name().toLowerCase(Locale.ROOT);
    concluder.conclude(s, v, entry, outcome, pod);
    metrics.checked(VerificationMetrics.TRAINING, outcome);
    Optional<SpotCheckRunner.Trainer> trainer =
        trainers.stream().filter(t -> t.rank() == r.rank()).findFirst();
    if (verdict.outcome() == RefereeVerdict.Outcome.PROVIDER_AT_FAULT && trainer.isPresent()) {
      FraudEvidence evidence =
          new FraudEvidence(
              CheatResponse.jobId(job),
              trainer.get().provider(),
              from,
              r.step(),
              VerifierOutput.committedDigest(json).orElse("unreported"),
              r.toProvider(),
              r.toVerifier(),
              tolerance);
      return Optional.of(
          cheats.respond(
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

  void passed(
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
}
