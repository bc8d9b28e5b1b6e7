package io.gpupool.operator.config;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves by hand: it reads {@link #now} until the test sets or advances it. */
public final class ManualClock extends Clock {
  public volatile Instant now;

  public ManualClock(Instant start) {
    now = start;
  }

  public ManualClock(String start) {
    this(Instant.parse(start));
  }

  public void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
