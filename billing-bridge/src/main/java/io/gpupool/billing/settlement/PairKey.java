package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.PairEvent;
import org.web3j.utils.Numeric;

/** A pair as the chain's events name it (job id hash in hex), to match events with stored pairs. */
record PairKey(String jobIdHash, String payer, String provider) {
  static PairKey of(PairId p) {
    return new PairKey(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider());
  }

  static PairKey of(PairEvent e) {
    return new PairKey(e.jobIdHash(), e.payer(), e.provider());
  }
}
