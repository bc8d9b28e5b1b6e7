package io.gpupool.billing.ledger;

/**
 * The {@link BillingStore} could not be read or written just now: its server did not answer, or the
 * connection dropped. Nothing was changed that the next attempt would not see; a settlement round
 * that meets it ends and the next round tries again. Not a bug, so it is told apart from the
 * failures nothing in a round handles.
 */
public class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
