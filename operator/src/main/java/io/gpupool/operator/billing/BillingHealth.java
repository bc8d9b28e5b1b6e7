package io.gpupool.operator.billing;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Not ready while the chain's RPC has failed for longer than {@code
 * gpupool.billing.rpc-down-grace}.
 */
@Readiness
@ApplicationScoped
public class BillingHealth implements HealthCheck {
  private final BillingService billing;
  private final Duration grace;

  public BillingHealth(
      BillingService billing,
      @ConfigProperty(name = "gpupool.billing.rpc-down-grace", defaultValue = "10m")
          Duration grace) {
    this.billing = billing;
    this.grace = grace;
  }

  @Override
  public HealthCheckResponse call() {
    var b = HealthCheckResponse.named("billing").withData("enabled", billing.enabled());
    Optional<Instant> down = billing.chain().flatMap(MeteredBillingChain::unreachableSince);
    if (down.isPresent() && down.get().plus(grace).isBefore(Instant.now())) {
      return b.down().withData("rpcUnreachableSince", down.get().toString()).build();
    }
    return b.up().build();
  }
}
