package io.gpupool.billing.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.web3j.crypto.Credentials;

/**
 * Loads the reporter's signing key from the environment or from a file mounted from a Kubernetes
 * Secret. The key is never logged and never part of an exception message.
 */
public final class KeySource {

  /** Default environment variable holding the reporter's hex private key. */
  public static final String DEFAULT_ENV = "GPUPOOL_BILLING_REPORTER_KEY";

  private static final Pattern HEX_KEY = Pattern.compile("(0x)?[0-9a-fA-F]{64}");

  private KeySource() {}

  /** Key from environment variable {@code name}. */
  public static Credentials fromEnvironment(String name) {
    return fromEnvironment(System.getenv(), name);
  }

  static Credentials fromEnvironment(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "environment variable " + name + " (reporter key) is not set");
    }
    return parse(value, "environment variable " + name);
  }

  /**
   * Key from a file, e.g. a Secret key mounted at {@code /var/run/secrets/gpupool/reporter-key}.
   */
  public static Credentials fromSecretFile(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), "secret file " + file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read reporter key file " + file, e);
    }
  }

  /** Parse a hex private key; the error names only where it came from. */
  public static Credentials parse(String hexKey, String origin) {
    String k = hexKey.strip();
    // Checked here because web3j's own parse errors quote part of the key.
    if (!HEX_KEY.matcher(k).matches()) {
      throw new IllegalArgumentException(origin + " does not hold a 32-byte hex private key");
    }
    return Credentials.create(k);
  }
}
