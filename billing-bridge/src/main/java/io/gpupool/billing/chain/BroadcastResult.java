package io.gpupool.billing.chain;

/** What a node answered to {@code eth_sendRawTransaction}. */
public enum BroadcastResult {
  /** Taken into the pool. */
  ACCEPTED,
  /** The node already has exactly this transaction (pending or mined). */
  ALREADY_KNOWN,
  /** The nonce is already used by a mined transaction (ours under another version, or not). */
  NONCE_USED,
  /** Another transaction with this nonce is pending and pays too much to be replaced by it. */
  UNDERPRICED
}
