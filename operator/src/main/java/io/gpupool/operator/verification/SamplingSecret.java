package io.gpupool.operator.verification;

import io.gpupool.operator.config.GpupoolConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The secret behind the spot-check sampler ({@code gpupool.verification.sampling-secret}, {@link
 * GpupoolConfig.Verification#samplingSecret}: hex, at least 16 bytes). Unset, each operator process
 * draws its own from SecureRandom: the decisions already taken are kept in each job's status, so a
 * new secret after a restart changes only intervals not decided yet, and a provider can predict
 * none of them. Set it (from a Secret) to be able to reveal it later and let anyone recheck which
 * intervals were sampled.
 */
@ApplicationScoped
public class SamplingSecret {
  private final byte[] secret;

  @Inject
  public SamplingSecret(GpupoolConfig config) {
    this(config.verification().samplingSecret());
  }

  SamplingSecret(Optional<String> configured) {
    if (configured.isPresent() && !configured.get().isBlank()) {
      byte[] bytes;
      try {
        bytes = HexFormat.of().parseHex(configured.get().trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "gpupool.verification.sampling-secret must be hex: " + e.getMessage(), e);
      }
      if (bytes.length < 16) {
        throw new IllegalArgumentException(
            "gpupool.verification.sampling-secret needs at least 16 bytes (32 hex digits), not "
                + bytes.length);
      }
      this.secret = bytes;
    } else {
      this.secret = new byte[32];
      new SecureRandom().nextBytes(this.secret);
    }
  }

  /** A copy of the secret. */
  public byte[] bytes() {
    return secret.clone();
  }
}
