package io.gpupool.e2e.chaos;

import java.time.Duration;
import java.time.Instant;

/**
 * How long the end of a chaos run waits for its jobs: {@code patience} after the last time fewer
 * jobs were open. A backlog of gangs that could only start once submissions stopped drains in
 * batches; a fixed wait cut the 30-minute soak off with four jobs still running, while a wait that
 * sees no job end for {@code patience} still gives up on a stall.
 */
public final class ProgressDeadline {
  private final Duration patience;
  private Instant deadline;
  private long fewestOpen = Long.MAX_VALUE;

  public ProgressDeadline(Instant now, Duration patience) {
    this.patience = patience;
    this.deadline = now.plus(patience);
  }

  /** Records how many jobs are open now; false once the wait should give up. */
  public boolean keepWaiting(Instant now, long open) {
    if (open < fewestOpen) {
      fewestOpen = open;
      deadline = now.plus(patience);
    }
    return now.isBefore(deadline);
  }
}
