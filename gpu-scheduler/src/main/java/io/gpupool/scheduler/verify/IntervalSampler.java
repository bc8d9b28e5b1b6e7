package io.gpupool.scheduler.verify;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Decides which checkpoint intervals of a job are replayed by a verifier.
 *
 * <p>The decision for an interval is HMAC-SHA256(secret, job + interval start) read as a number in
 * [0, 1) and compared with the sample rate. The secret never leaves the operator, so the provider
 * cannot tell which of its intervals will be checked (it must commit every interval before it could
 * learn that); the operator can reveal the secret with a dispute's evidence, and anyone can then
 * recompute that the interval was sampled fairly. Each interval is sampled independently, so
 * cheating on c intervals goes unseen with probability (1 - rate)^c.
 */
public final class IntervalSampler {
  private static final String HMAC = "HmacSHA256";
  private final byte[] secret;
  private final double rate;

  /**
   * @param secret at least 16 random bytes (SecureRandom), kept from the providers
   * @param rate share of intervals sampled, in (0, 1]
   */
  public IntervalSampler(byte[] secret, double rate) {
    Objects.requireNonNull(secret, "secret");
    if (secret.length < 16) {
      throw new IllegalArgumentException("a sampling secret needs at least 16 bytes");
    }
    if (!(rate > 0 && rate <= 1)) {
      throw new IllegalArgumentException("sample rate " + rate + " is not in (0, 1]");
    }
    this.secret = secret.clone();
    this.rate = rate;
  }

  /** True when the interval that starts at checkpoint step {@code fromStep} is to be replayed. */
  public boolean sampled(String jobId, long fromStep) {
    return draw(jobId, fromStep) < rate;
  }

  /** The uniform draw in [0, 1) behind {@link #sampled}; shown in evidence. */
  public double draw(String jobId, long fromStep) {
    byte[] mac = mac(jobId + "\n" + fromStep);
    // The top 53 bits make a double uniform in [0, 1).
    long bits = ByteBuffer.wrap(mac, 0, 8).getLong() >>> 11;
    return bits * 0x1.0p-53;
  }

  private byte[] mac(String message) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(secret, HMAC));
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
