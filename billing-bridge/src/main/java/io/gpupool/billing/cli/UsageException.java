package io.gpupool.billing.cli;

/** A wrong command line: exit code 2 and the usage text. */
final class UsageException extends IllegalArgumentException {
  UsageException(String message) {
    super(message);
  }
}
