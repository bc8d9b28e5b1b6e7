package io.gpupool.operator.metrics;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may read the operator's metrics, decided as kube-rbac-proxy and controller-runtime's secure
 * metrics decide: the caller's bearer token is authenticated by the API server (TokenReview) and
 * the user it names must be allowed {@code get} on the metrics path (SubjectAccessReview, e.g.
 * through the chart's {@code <release>-metrics-reader} ClusterRole). Answers are cached briefly so
 * a scrape every few seconds does not cost two API requests each.
 */
public final class MetricsAccess {
  /** What the API server says about a token and a user. */
  public interface Reviewer {
    /** The user a token authenticates as, empty when it does not. */
    Optional<User> authenticate(String token);

    /** Whether {@code user} may {@code verb} the non-resource {@code path}. */
    boolean allowed(User user, String verb, String path);
  }

  /** An authenticated user. */
  public record User(String name, List<String> groups, Map<String, List<String>> extra) {}

  /** The answer: 200 to serve, 401 or 403 with a message. */
  public record Verdict(int status, String message) {
    public boolean allowed() {
      return status == 200;
    }
  }

  private static final Duration ALLOWED_FOR = Duration.ofSeconds(60);
  private static final Duration DENIED_FOR = Duration.ofSeconds(5);

  private final Reviewer reviewer;
  private final String path;
  private final Clock clock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(Verdict verdict, Instant until) {}

  public MetricsAccess(Reviewer reviewer, String path, Clock clock) {
    this.reviewer = reviewer;
    this.path = path;
    this.clock = clock;
  }

  /** The verdict for a request carrying {@code authorization} (the header, or null). */
  public Verdict check(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return new Verdict(
          401,
          "Unauthorized: "
              + path
              + " needs a bearer token of a user allowed to get it (e.g. a service account bound"
              + " to the metrics-reader ClusterRole)");
    }
    String token = authorization.substring(7).trim();
    Instant now = clock.instant();
    Cached cached = cache.get(token);
    if (cached != null && now.isBefore(cached.until())) {
      return cached.verdict();
    }
    if (cache.size() > 1000) {
      cache.entrySet().removeIf(e -> !now.isBefore(e.getValue().until()));
    }
    Verdict verdict = decide(token);
    cache.put(token, new Cached(verdict, now.plus(verdict.allowed() ? ALLOWED_FOR : DENIED_FOR)));
    return verdict;
  }

  private Verdict decide(String token) {
    Optional<User> user = reviewer.authenticate(token);
    if (user.isEmpty()) {
      return new Verdict(401, "Unauthorized: the API server did not authenticate the token");
    }
    if (!reviewer.allowed(user.get(), "get", path)) {
      return new Verdict(
          403, "Forbidden: User \"" + user.get().name() + "\" cannot get path \"" + path + "\"");
    }
    return new Verdict(200, "");
  }
}
