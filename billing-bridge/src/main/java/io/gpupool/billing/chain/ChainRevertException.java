package io.gpupool.billing.chain;

/** The contract rejected the call (dry run or mined with status 0); carries the decoded reason. */
public class ChainRevertException extends ChainException {
  private final DecodedError error;

  public ChainRevertException(DecodedError error, Throwable cause) {
    super("reverted: " + error, cause);
    this.error = error;
  }

  public DecodedError error() {
    return error;
  }

  /**
   * True when the contract itself refused (a decoded custom error, {@code Error(string)} or {@code
   * Panic}); false when the node refused the transaction with a message of its own (fee below the
   * base fee, insufficient funds for gas), which says nothing about the pairs in it.
   */
  public boolean isContractError() {
    return !"Unknown".equals(error.name());
  }
}
