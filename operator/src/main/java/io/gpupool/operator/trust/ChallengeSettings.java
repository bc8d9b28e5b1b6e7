package io.gpupool.operator.trust;

import io.gpupool.operator.config.GpupoolConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Hands the {@link ChallengeRunner} its part of the one configuration mapping, {@code
 * gpupool.trust.challenge.*}: the runner depends on those settings alone, so tests give it their
 * own without building every other setting.
 */
@ApplicationScoped
public class ChallengeSettings {
  @Produces
  @Singleton
  GpupoolConfig.Trust.Challenge challenge(GpupoolConfig config) {
    return config.trust().challenge();
  }
}
