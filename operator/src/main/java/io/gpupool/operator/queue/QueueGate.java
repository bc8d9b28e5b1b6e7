package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a {@link Verdict} means for a TrainingJob's status: {@code status.queue} and the {@code
 * Admitted} condition (reasons {@code Admitted}, {@code Queued}, {@code Preempted}), and the
 * products the job may be placed on. Pure: the reconciler's call sites stay one line each.
 */
public final class QueueGate {
  /** Condition type on a queued job. */
  public static final String ADMITTED = "Admitted";

  /** Sets a condition, as the job loop's step does; true when it changed. */
  @FunctionalInterface
  public interface ConditionSink {
    boolean condition(String type, boolean value, String reason, String message);
  }

  private QueueGate() {}

  /**
   * Records the verdict for a job that wants GPUs; true when it may be placed now. A job no queue
   * applies to carries no queue status and no Admitted condition.
   */
  public static boolean mayPlace(TrainingJobStatus status, Verdict verdict, ConditionSink c) {
    if (verdict instanceof Verdict.NotQueued) {
      status.queue = null;
      return true;
    }
    if (verdict instanceof Verdict.Admitted a) {
      QueuePosition q = position(status, a.queue());
      q.position = null;
      q.flavor = a.flavor();
      q.priority = a.priority();
      c.condition(
          ADMITTED,
          true,
          "Admitted",
          "admitted by GpuQueue " + a.queue() + " on " + a.flavor() + " quota");
      return true;
    }
    if (verdict instanceof Verdict.Queued w) {
      QueuePosition q = position(status, w.queue());
      q.position = w.position() > 0 ? w.position() : null;
      q.flavor = null;
      q.priority = w.priority();
      boolean preempted = isPreempted(status);
      // A job evicted earlier keeps saying so until it is admitted again.
      c.condition(
          ADMITTED,
          false,
          preempted ? "Preempted" : "Queued",
          (preempted ? "preempted, back in its queue: " : "") + w.message());
      return false;
    }
    if (verdict instanceof Verdict.Inadmissible i) {
      QueuePosition q = position(status, i.queue());
      q.position = null;
      q.flavor = null;
      c.condition(ADMITTED, false, "Inadmissible", i.message());
      return false;
    }
    return false; // Evicted: it holds no GPUs any more; the eviction is finishing
  }

  /** Marks an evicted job's status (notice given, or pods removed). */
  public static void preempted(
      TrainingJobStatus status, String queue, String message, ConditionSink c) {
    position(status, queue);
    c.condition(ADMITTED, false, "Preempted", message);
  }

  /** Counts one completed eviction; the notice is over. */
  public static void evictionDone(TrainingJobStatus status, String queue) {
    QueuePosition q = position(status, queue);
    q.preemptions = q.preemptions == null ? 1 : q.preemptions + 1;
    q.flavor = null;
    q.evictedFor = null;
    q.evictionDeadline = null;
  }

  /**
   * Records the notice of an eviction under way (for whom, until when) in status: a restarted
   * operator reads it back and carries the same eviction on ({@code AdmissionRebuild}).
   */
  public static void noticeGiven(
      TrainingJobStatus status, String queue, String preemptor, String deadline) {
    QueuePosition q = position(status, queue);
    q.evictedFor = preemptor;
    q.evictionDeadline = deadline;
  }

  private static boolean isPreempted(TrainingJobStatus status) {
    return status.conditions != null
        && status.conditions.stream()
            .anyMatch(
                c ->
                    ADMITTED.equals(c.getType())
                        && "Preempted".equals(c.getReason())
                        && "False".equals(c.getStatus()));
  }

  private static QueuePosition position(TrainingJobStatus status, String queue) {
    if (status.queue == null || !queue.equals(status.queue.name)) {
      QueuePosition q = new QueuePosition();
      q.name = queue;
      q.preemptions = status.queue == null ? null : status.queue.preemptions;
      status.queue = q;
    }
    return status.queue;
  }

  /**
   * The job as the planner should see it: allowed products narrowed to the admitted flavor's (a
   * copy; the job itself is left alone). Unchanged when not admitted on a flavor.
   */
  public static TrainingJob restricted(TrainingJob job, Verdict verdict) {
    if (!(verdict instanceof Verdict.Admitted a) || a.products().isEmpty()) {
      return job;
    }
    TrainingJobSpec spec = job.getSpec();
    List<String> wanted =
        spec.resources == null || spec.resources.gpuModels == null
            ? List.of()
            : spec.resources.gpuModels;
    Set<String> allowed = new LinkedHashSet<>();
    if (wanted.isEmpty()) {
      allowed.addAll(a.products());
    } else {
      for (String p : wanted) {
        if (a.products().contains(p)) {
          allowed.add(p);
        }
      }
    }
    if (allowed.equals(new LinkedHashSet<>(wanted))) {
      return job;
    }
    TrainingJob copy = new TrainingJob();
    copy.setMetadata(job.getMetadata());
    copy.setStatus(job.getStatus());
    TrainingJobSpec narrowed = copyFields(spec, new TrainingJobSpec());
    narrowed.resources =
        copyFields(
            spec.resources == null ? new GpuRequirements() : spec.resources, new GpuRequirements());
    narrowed.resources.gpuModels = new ArrayList<>(allowed);
    copy.setSpec(narrowed);
    return copy;
  }

  /** Shallow copy of an API class's public fields (they are plain data holders). */
  private static <T> T copyFields(T from, T to) {
    try {
      for (Field f : from.getClass().getFields()) {
        if (!Modifier.isStatic(f.getModifiers())) {
          f.set(to, f.get(from));
        }
      }
      return to;
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
