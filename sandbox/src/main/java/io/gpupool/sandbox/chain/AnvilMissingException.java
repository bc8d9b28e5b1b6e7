package io.gpupool.sandbox.chain;

/** anvil is not installed; the message says how to install it or run without a chain. */
public final class AnvilMissingException extends RuntimeException {
  public AnvilMissingException(String message, Throwable cause) {
    super(message, cause);
  }
}
