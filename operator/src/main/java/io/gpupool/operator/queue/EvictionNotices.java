package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmittedWorkload;
import io.gpupool.scheduler.queue.Preemption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The notice each evicted job is given: for whom, and until when it may checkpoint before its pods
 * are removed (the grace period its spec asks for, {@link #DEFAULT_GRACE_SECONDS} otherwise).
 */
final class EvictionNotices {
  static final int DEFAULT_GRACE_SECONDS = 60;

  private record Notice(String preemptor, Instant deadline) {}

  private final Map<String, Notice> notices = new HashMap<>();
  private final Map<String, Integer> graceSeconds = new HashMap<>();

  /** The grace period the job's spec asks for. */
  void grace(String id, int seconds) {
    graceSeconds.put(id, seconds);
  }

  /** A round evicted {@code p}'s victim at {@code now}; returns the seconds of notice it gets. */
  int preempted(Preemption p, Instant now) {
    int grace = graceSeconds.getOrDefault(p.victimId(), DEFAULT_GRACE_SECONDS);
    notices.put(p.victimId(), new Notice(p.preemptorId(), now.plusSeconds(grace)));
    return grace;
  }

  /**
   * After a restart: the notice {@code id}'s status recorded (for whom, until when), so the victim
   * still leaves at the deadline it was given, not a new one.
   */
  void restore(String id, String preemptor, Instant deadline) {
    notices.put(id, new Notice(preemptor, deadline));
  }

  /** What an admitted workload is told while it is being evicted; empty when it is not. */
  Optional<Verdict> verdict(AdmittedWorkload a) {
    Notice n = notices.get(a.workload().id());
    if (!a.evicting() || n == null) {
      return Optional.empty();
    }
    return Optional.of(new Verdict.Evicted(a.workload().queue(), n.preemptor(), n.deadline()));
  }

  /** The victim's pods are gone. */
  void done(String id) {
    notices.remove(id);
  }

  void forget(String id) {
    notices.remove(id);
    graceSeconds.remove(id);
  }
}
