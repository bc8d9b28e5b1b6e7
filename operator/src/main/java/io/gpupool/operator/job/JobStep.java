package io.gpupool.operator.job;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpupool.operator.status.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One reconcile's working set, shared by both job kinds: the job, its status being built, the time
 * the reconcile started and the earliest time it asked to look again.
 *
 * @param <J> the job resource
 * @param <S> its status
 * @param <P> its phase
 */
public final class JobStep<J extends HasMetadata, S, P> {
  public final J job;
  public final S status;
  public final Instant now;
  public final Long generation;
  public final P previousPhase;
  private final List<Condition> conditions;
  private Duration recheck;

  /** Made by the {@link JobLoop} for each reconcile; public for the steps' own tests. */
  public JobStep(J job, S status, P previousPhase, List<Condition> conditions, Instant now) {
    this.job = job;
    this.status = status;
    this.now = now;
    this.generation = job.getMetadata().getGeneration();
    this.previousPhase = previousPhase;
    this.conditions = conditions;
  }

  /** Sets a condition; true when it changed (callers record an event only then). */
  public boolean condition(String type, boolean value, String reason, String message) {
    return Conditions.set(conditions, type, value, reason, message, generation, now);
  }

  /** Removes a condition. */
  public void remove(String type) {
    Conditions.remove(conditions, type);
  }

  /** Asks to look again within {@code d} at the latest (a past due time means soon). */
  public void recheckIn(Duration d) {
    if (d == null) {
      return;
    }
    Duration positive = d.isNegative() || d.isZero() ? Duration.ofMillis(100) : d;
    if (recheck == null || positive.compareTo(recheck) < 0) {
      recheck = positive;
    }
  }

  /** The earliest recheck asked for, or null to wait for events. */
  public Duration recheck() {
    return recheck;
  }

  /** The job as logs name it, {@code Kind(ns/name)}. */
  public String ref() {
    return JobLoop.ref(job);
  }
}
