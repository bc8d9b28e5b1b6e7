package io.gpupool.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.config.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetricsAccessTest {
  /** A hand-written API server: two tokens, one of them allowed to read the metrics. */
  static final class FakeApiServer implements MetricsAccess.Reviewer {
    final AtomicInteger reviews = new AtomicInteger();

    @Override
    public Optional<MetricsAccess.User> authenticate(String token) {
      reviews.incrementAndGet();
      return switch (token) {
        case "prometheus" ->
            Optional.of(
                new MetricsAccess.User(
                    "system:serviceaccount:monitoring:prometheus", List.of(), Map.of()));
        case "tenant" ->
            Optional.of(
                new MetricsAccess.User("system:serviceaccount:ml:job", List.of(), Map.of()));
        default -> Optional.empty();
      };
    }

    @Override
    public boolean allowed(MetricsAccess.User user, String verb, String path) {
      return user.name().endsWith(":prometheus") && verb.equals("get") && path.equals("/q/metrics");
    }
  }

  private final FakeApiServer api = new FakeApiServer();
  private final ManualClock clock = new ManualClock("2026-12-06T00:00:00Z");
  private final MetricsAccess access = new MetricsAccess(api, "/q/metrics", clock);

  @Test
  void aPermittedTokenIsServedAndOthersAreRefusedAsAnApiServerWould() {
    assertThat(access.check("Bearer prometheus").allowed()).isTrue();
    MetricsAccess.Verdict tenant = access.check("Bearer tenant");
    assertThat(tenant.status()).isEqualTo(403);
    assertThat(tenant.message())
        .isEqualTo(
            "Forbidden: User \"system:serviceaccount:ml:job\" cannot get path \"/q/metrics\"");
    assertThat(access.check("Bearer forged").status()).isEqualTo(401);
    assertThat(access.check(null).status()).isEqualTo(401);
    assertThat(access.check("Basic dXNlcjpwYXNz").status()).isEqualTo(401);
  }

  @Test
  void answersAreCachedBrieflyThenAskedAgain() {
    access.check("Bearer prometheus");
    access.check("Bearer prometheus");
    assertThat(api.reviews).hasValue(1);
    clock.advance(Duration.ofSeconds(61));
    access.check("Bearer prometheus");
    assertThat(api.reviews).hasValue(2);
    access.check("Bearer tenant");
    clock.advance(Duration.ofSeconds(6));
    access.check("Bearer tenant");
    assertThat(api.reviews).as("a refusal is cached for 5 s only").hasValue(4);
  }
}
