package io.gpupool.operator.billing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * A 32-byte hash of dispute evidence, as lower-case 0x-prefixed hex (the contract's {@code
 * bytes32}). The evidence itself stays with whoever collected it; the chain keeps only its hash.
 */
public record EvidenceHash(String hex) {

  public EvidenceHash {
    Objects.requireNonNull(hex, "hex");
    if (!hex.matches("0x[0-9a-fA-F]{64}")) {
      throw new IllegalArgumentException("evidence hash is not 0x and 32 bytes of hex: " + hex);
    }
    hex = hex.toLowerCase(Locale.ROOT);
  }

  /** SHA-256 of the evidence bytes. */
  public static EvidenceHash sha256(byte[] evidence) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(evidence);
      return new EvidenceHash("0x" + HexFormat.of().formatHex(digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** SHA-256 of the evidence's UTF-8 text (e.g. a canonical JSON record of a challenge). */
  public static EvidenceHash sha256(String evidence) {
    return sha256(evidence.getBytes(StandardCharsets.UTF_8));
  }

  public byte[] bytes() {
    return HexFormat.of().parseHex(hex.substring(2));
  }
}
