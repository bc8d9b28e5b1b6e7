package io.gpupool.billing.chain;

/** The RPC endpoint could not be reached or answered with a transport error; retry later. */
public class ChainUnavailableException extends ChainException {
  public ChainUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
