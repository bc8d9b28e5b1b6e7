package io.gpupool.sandbox.api;

import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Which faults the sandbox API server injects, and how often: what a loaded real API server does to
 * its clients (stale-update conflicts, throttling, 5xx, slow answers, watches closed or expired,
 * connections reset). Each fault has a rate, the probability that one eligible request gets it; one
 * seeded draw per request picks at most one fault. Only requests from the targeted users are
 * touched (by default service accounts: the operator under test, not kubectl or the simulated
 * kubelet). Every fault injected is counted.
 */
public final class FaultPlan {

  /** The faults, each with the requests it can hit. */
  public enum Fault {
    /** 409 Conflict on an update (PUT, or a patch that names a resourceVersion), not applied. */
    CONFLICT,
    /** 429 TooManyRequests with Retry-After: 1, not applied. */
    THROTTLE,
    /** 500 InternalError, not applied. */
    SERVER_ERROR,
    /** 503 ServiceUnavailable, not applied. */
    UNAVAILABLE,
    /** Answered normally after a delay of up to {@link FaultPlan#maxDelay()}. */
    SLOW,
    /** The connection is reset before the request is served: nothing applied, no answer. */
    DROPPED_CONNECTION,
    /** A write is applied, then the connection is reset: the client never learns it succeeded. */
    LOST_REPLY,
    /** A watch is closed after a while, as an API server does at will. */
    WATCH_CLOSED,
    /** A watch from a resourceVersion gets an ERROR event 410 Gone: the client must relist. */
    WATCH_GONE;

    /** The name in a fault spec: {@code lost-reply}. */
    public String specName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    boolean hitsWatches() {
      return this == WATCH_CLOSED || this == WATCH_GONE;
    }
  }

  /** What one request looks like to the plan. */
  record Target(String method, boolean watch, boolean watchFromVersion, boolean conditionalWrite) {
    boolean write() {
      return !method.equals("GET");
    }
  }

  private static final Predicate<UserInfo> SERVICE_ACCOUNTS =
      user -> user != null && UserInfo.serviceAccountOf(user.name()) != null;

  private final Map<Fault, Double> rates;
  private final long seed;
  private final Random random;
  private final Predicate<UserInfo> targets;
  private final Duration maxDelay;
  private final Map<Fault, AtomicLong> counts = new EnumMap<>(Fault.class);

  private FaultPlan(
      Map<Fault, Double> rates, long seed, Predicate<UserInfo> targets, Duration maxDelay) {
    this.rates = new EnumMap<>(Fault.class);
    this.rates.putAll(rates);
    this.seed = seed;
    this.random = new Random(seed);
    this.targets = targets;
    this.maxDelay = maxDelay;
    for (Fault f : Fault.values()) {
      counts.put(f, new AtomicLong());
    }
  }

  /** No faults at all (the default). */
  public static FaultPlan none() {
    return new FaultPlan(Map.of(), 0, SERVICE_ACCOUNTS, Duration.ofSeconds(2));
  }

  /** The same {@code rate} for every fault, seeded, against service accounts. */
  public static FaultPlan uniform(double rate, long seed) {
    Map<Fault, Double> rates = new EnumMap<>(Fault.class);
    for (Fault f : Fault.values()) {
      rates.put(f, rate);
    }
    return of(rates, seed);
  }

  /** Per-fault rates, seeded, against service accounts. */
  public static FaultPlan of(Map<Fault, Double> rates, long seed) {
    validate(rates);
    return new FaultPlan(rates, seed, SERVICE_ACCOUNTS, Duration.ofSeconds(2));
  }

  /**
   * Parses {@code conflict=0.05,throttle=0.02,...} (fault names as {@link Fault#specName()}; {@code
   * all=R} sets every fault not named otherwise).
   */
  public static FaultPlan parse(String spec, long seed) {
    Map<Fault, Double> rates = new EnumMap<>(Fault.class);
    Double all = null;
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int eq = p.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("fault spec '" + p + "': expected NAME=RATE");
      }
      String name = p.substring(0, eq).trim();
      double rate;
      try {
        rate = Double.parseDouble(p.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("fault spec '" + p + "': the rate is not a number");
      }
      if (name.equals("all")) {
        all = rate;
        continue;
      }
      rates.put(byName(name), rate);
    }
    if (all != null) {
      for (Fault f : Fault.values()) {
        rates.putIfAbsent(f, all);
      }
    }
    return of(rates, seed);
  }

  private static Fault byName(String name) {
    for (Fault f : Fault.values()) {
      if (f.specName().equals(name)) {
        return f;
      }
    }
    StringBuilder known = new StringBuilder("all");
    for (Fault f : Fault.values()) {
      known.append(", ").append(f.specName());
    }
    throw new IllegalArgumentException("unknown fault '" + name + "' (known: " + known + ")");
  }

  private static void validate(Map<Fault, Double> rates) {
    double requestSum = 0;
    double watchSum = 0;
    for (var e : rates.entrySet()) {
      double r = e.getValue();
      if (!(r >= 0 && r <= 1)) {
        throw new IllegalArgumentException(
            "rate of " + e.getKey().specName() + " must be between 0 and 1, was " + r);
      }
      if (e.getKey().hitsWatches()) {
        watchSum += r;
      } else {
        requestSum += r;
      }
    }
    if (requestSum > 1 || watchSum > 1) {
      throw new IllegalArgumentException(
          "the rates of the request faults and those of the watch faults must each add up to at"
              + " most 1: "
              + rates);
    }
  }

  /** The same rates and seed, with SLOW answers up to {@code max} and watches living 5 × that. */
  public FaultPlan withMaxDelay(Duration max) {
    return new FaultPlan(rates, seed, targets, max);
  }

  /** The same rates and seed against other users. */
  public FaultPlan targeting(Predicate<UserInfo> users) {
    return new FaultPlan(rates, seed, users, maxDelay);
  }

  /** The longest a watch lives when it gets {@link Fault#WATCH_CLOSED}. */
  public Duration maxWatchLife() {
    return maxDelay.multipliedBy(5);
  }

  /** The longest delay of a {@link Fault#SLOW} answer. */
  public Duration maxDelay() {
    return maxDelay;
  }

  public double rate(Fault fault) {
    return rates.getOrDefault(fault, 0.0);
  }

  /** The fault this request gets, or null; counted when not null. */
  Fault draw(UserInfo user, Target target) {
    if (rates.isEmpty() || !targets.test(user)) {
      return null;
    }
    double u;
    synchronized (random) {
      u = random.nextDouble();
    }
    double edge = 0;
    for (Fault f : Fault.values()) {
      if (f.hitsWatches() != target.watch()) {
        continue;
      }
      edge += rate(f);
      if (u < edge) {
        if (!applies(f, target)) {
          return null;
        }
        counts.get(f).incrementAndGet();
        return f;
      }
    }
    return null;
  }

  private static boolean applies(Fault f, Target t) {
    return switch (f) {
      case CONFLICT -> t.conditionalWrite();
      case LOST_REPLY -> t.write();
      case WATCH_GONE -> t.watchFromVersion();
      default -> true;
    };
  }

  /** A delay in [0, max) from the plan's random source. */
  long delayMillis(Duration max) {
    synchronized (random) {
      return (long) (random.nextDouble() * max.toMillis());
    }
  }

  /** How many of each fault were injected so far, every fault listed. */
  public Map<Fault, Long> counts() {
    Map<Fault, Long> out = new LinkedHashMap<>();
    counts.forEach((f, n) -> out.put(f, n.get()));
    return out;
  }

  /** All faults injected so far. */
  public long total() {
    return counts.values().stream().mapToLong(AtomicLong::get).sum();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    rates.forEach(
        (f, r) -> b.append(b.isEmpty() ? "" : ",").append(f.specName()).append('=').append(r));
    return b.isEmpty() ? "no faults" : b.toString();
  }
}
