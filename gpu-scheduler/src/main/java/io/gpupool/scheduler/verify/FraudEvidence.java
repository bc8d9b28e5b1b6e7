package io.gpupool.scheduler.verify;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What a training-fraud dispute rests on, in one canonical text whose hash goes on chain. Kept by
 * the operator; anyone holding it (and the revealed sampling secret) can recheck the claim.
 *
 * @param job namespace/name and uid of the job
 * @param provider the GpuProvider accused
 * @param fromStep the verified checkpoint the interval started from
 * @param step the step the bisection and the referee localized
 * @param committedDigest the provider's committed digest for that step
 * @param toProvider referee distance to the provider's parameters
 * @param toVerifier referee distance to the verifier's parameters
 * @param tolerance the job's tolerance
 */
public record FraudEvidence(
    String job,
    String provider,
    long fromStep,
    long step,
    String committedDigest,
    double toProvider,
    double toVerifier,
    double tolerance) {

  /** The canonical text (one field per line, fixed order and number format). */
  public String canonical() {
    return String.format(
        Locale.ROOT,
        "gpupool training spot-check v1%njob=%s%nprovider=%s%nfrom=%d%nstep=%d%ncommitted=%s%n"
            + "toProvider=%.17g%ntoVerifier=%.17g%ntolerance=%.17g%n",
        job,
        provider,
        fromStep,
        step,
        committedDigest,
        toProvider,
        toVerifier,
        tolerance);
  }

  /** {@link #canonical()} as UTF-8, the bytes hashed into the dispute's evidence hash. */
  public byte[] bytes() {
    return canonical().getBytes(StandardCharsets.UTF_8);
  }
}
