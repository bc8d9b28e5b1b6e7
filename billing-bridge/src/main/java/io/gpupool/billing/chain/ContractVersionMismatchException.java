package io.gpupool.billing.chain;

/** The deployed contract speaks another interface version than this client. */
public final class ContractVersionMismatchException extends ChainException {

  public ContractVersionMismatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
