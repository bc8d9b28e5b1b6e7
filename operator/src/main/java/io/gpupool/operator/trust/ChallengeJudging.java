package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import io.gpupool.scheduler.trust.TimingModel;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Reads a challenge pod's answer and classifies it: from its termination message (every digest, the
 * operator recomputes a few), or, when the pod serves one, from its commitment and the openings the
 * operator draws after it ({@link CommitThenOpen}). Either way a pod that ended without an answer
 * is too slow, and the verdict waits until the last deadline otherwise.
 */
final class ChallengeJudging {
  private final TimingModel timing;
  private final RandomGenerator random;
  private final int samples;
  private final CommitThenOpen openings;

  ChallengeJudging(
      TimingModel timing, RandomGenerator random, int samples, CommitThenOpen openings) {
    this.timing = timing;
    this.random = random;
    this.samples = samples;
    this.openings = openings;
  }

  /**
   * A verdict, if one is due, and whether the node answered at all (a verdict on an answer nobody
   * saw come may depend on when it came).
   */
  record Judged(Optional<ChallengeVerdict> verdict, boolean answered) {}

  Judged judge(
      ChallengeInFlight r,
      Pod pod,
      Instant now,
      Optional<Duration> runningAfter,
      SpeedCorrection speed) {
    Duration elapsed = Duration.between(r.started(), now);
    Optional<Integer> port = ChallengePods.openingPort(pod);
    Optional<ChallengePods.PodResult> result = ChallengePods.result(pod);
    if (port.isPresent()) {
      CommitThenOpen.Polled polled = openings.poll(r, pod, port.get(), now);
      if (polled.awaitingOpenings()) {
        // It committed: the openings (or their window running out) decide, not the deadline.
        return new Judged(Optional.empty(), true);
      }
      Optional<CommitThenOpen.Opened> opened = polled.opened();
      if (opened.isEmpty() && result.isPresent()) {
        return new Judged(
            Optional.of(
                new ChallengeVerdict(
                    Outcome.TOO_SLOW,
                    "challenge pod "
                        + pod.getStatus().getPhase()
                        + " without committing to its products")),
            false);
      }
      return new Judged(
          ChallengeVerdict.classifyOpened(
              r.challenge(),
              opened.map(CommitThenOpen.Opened::problem),
              opened.map(o -> Duration.between(r.started(), o.committedAt())).orElse(elapsed),
              runningAfter,
              r.claimed(),
              r.gpus(),
              timing,
              speed),
          opened.isPresent());
    }
    if (result.isPresent() && result.get().answer().isEmpty()) {
      return new Judged(
          Optional.of(new ChallengeVerdict(Outcome.TOO_SLOW, result.get().failure())), false);
    }
    return new Judged(
        ChallengeVerdict.classify(
            r.challenge(),
            result.flatMap(ChallengePods.PodResult::answer),
            elapsed,
            runningAfter,
            r.claimed(),
            r.gpus(),
            timing,
            random,
            samples,
            speed),
        result.flatMap(ChallengePods.PodResult::answer).isPresent());
  }

  /** Forgets what was read of a node's challenge once it ended. */
  void forget(String node) {
    openings.forget(node);
  }

  /** Stops asking pods for openings (the operator is stopping). */
  void close() {
    openings.close();
  }
}
