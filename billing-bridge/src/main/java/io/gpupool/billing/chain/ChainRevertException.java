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
}
