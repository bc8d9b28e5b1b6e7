package io.gpupool.sandbox.api;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every distinct resource request the API server received, by client user agent: what a test
 * compares with the RBAC rules a component is given. Distinct calls are kept up to a bound (a
 * long-running sandbox creates new object names all the time); beyond it new ones are counted as
 * dropped, so a test can tell the log is incomplete.
 */
public final class ApiAccessLog {
  /** Distinct calls kept before new ones are only counted. */
  public static final int MAX_DISTINCT = 200_000;

  private final Map<ApiCall, AtomicLong> calls = new ConcurrentHashMap<>();
  private final AtomicLong dropped = new AtomicLong();

  void record(String userAgent, String method, String uri) {
    RequestAttributes.resolve(userAgent, method, uri)
        .ifPresent(
            call -> {
              AtomicLong count = calls.get(call);
              if (count == null && calls.size() >= MAX_DISTINCT) {
                dropped.incrementAndGet();
                return;
              }
              calls.computeIfAbsent(call, c -> new AtomicLong()).incrementAndGet();
            });
  }

  /** The distinct calls made by clients whose user agent starts with {@code userAgentPrefix}. */
  public List<ApiCall> calls(String userAgentPrefix) {
    return calls.keySet().stream().filter(c -> c.userAgent().startsWith(userAgentPrefix)).toList();
  }

  /** How many times a call was made. */
  public long count(ApiCall call) {
    AtomicLong n = calls.get(call);
    return n == null ? 0 : n.get();
  }

  /** Distinct calls not kept because the log was full. */
  public long dropped() {
    return dropped.get();
  }
}
