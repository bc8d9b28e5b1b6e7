package io.gpupool.operator.billing;

import io.gpupool.operator.config.GpupoolConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
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

  @Inject
  public BillingHealth(BillingService billing, GpupoolConfig config) {
    this(billing, config.billing().rpcDownGrace());
  }

  BillingHealth(BillingService billing, Duration grace) {
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
