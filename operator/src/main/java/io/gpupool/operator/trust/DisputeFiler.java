package io.gpupool.operator.trust;

/**
 * Where a wrong challenge answer goes as fraud evidence: a dispute against the provider (on chain,
 * where the billing contract holds its stake). The operator calls it once per wrong answer.
 */
public interface DisputeFiler {
  /**
   * Files a dispute against {@code provider}.
   *
   * @param evidence what was asked and answered, hashed into the dispute's evidence
   * @return what happened, for the provider's event (e.g. "dispute filed in tx 0x…")
   */
  String fileDispute(String provider, String evidence);
}
