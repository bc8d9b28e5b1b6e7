package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.AdmittedWorkload;
import java.util.Optional;

/**
 * What admission tells a job after the last round: admitted on which products, evicted with what
 * notice, queued at which place and why, or never admissible as queues are defined. Called under
 * the {@link AdmissionController}'s lock.
 */
final class Verdicts {
  private final AdmissionBook book;
  private final EvictionNotices notices;
  private final InadmissibleJobs inadmissible;
  private final WaitingJobs waiting;
  private final AdmissionWakes wakes;

  Verdicts(
      AdmissionBook book,
      EvictionNotices notices,
      InadmissibleJobs inadmissible,
      WaitingJobs waiting,
      AdmissionWakes wakes) {
    this.book = book;
    this.notices = notices;
    this.inadmissible = inadmissible;
    this.waiting = waiting;
    this.wakes = wakes;
  }

  /** Of a workload in {@code queue} at {@code priority}, admitted or not. */
  Verdict of(String id, String queue, int priority) {
    return book.admitted(id).map(this::admitted).orElseGet(() -> queued(id, queue, priority));
  }

  Verdict admitted(AdmittedWorkload a) {
    Optional<Verdict> evicted = notices.verdict(a);
    if (evicted.isPresent()) {
      return evicted.get();
    }
    return new Verdict.Admitted(
        a.workload().queue(),
        a.flavor(),
        QueueLookup.products(book, a.workload().queue(), a.flavor()),
        a.workload().priority());
  }

  private Verdict queued(String id, String queue, int priority) {
    String never = inadmissible.why(id);
    if (never != null) {
      return new Verdict.Inadmissible(queue, never);
    }
    int position = wakes.position(book, id);
    return new Verdict.Queued(queue, position, waiting.why(id, queue), priority);
  }
}
