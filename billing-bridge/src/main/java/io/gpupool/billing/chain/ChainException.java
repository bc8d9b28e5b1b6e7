package io.gpupool.billing.chain;

/** A chain interaction failed. */
public class ChainException extends RuntimeException {
  public ChainException(String message, Throwable cause) {
    super(message, cause);
  }
}
