package io.gpupool.billing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.web3j.crypto.Hash;
import org.web3j.crypto.WalletUtils;

/**
 * The unit of settlement: one job's usage on one provider, charged to one payer. Addresses are
 * normalised to lower-case 0x hex so that equal addresses compare equal.
 *
 * @param jobId the job's stable identifier (e.g. {@code namespace/name} or its UID); on chain it is
 *     the first 16 bytes of {@code keccak256(UTF-8 bytes)}
 * @param payer the payer's address (whose escrow is debited)
 * @param provider the provider's address (whose balance is credited)
 */
public record PairId(String jobId, String payer, String provider) implements Comparable<PairId> {

  public PairId {
    Objects.requireNonNull(jobId, "jobId");
    if (jobId.isBlank()) {
      throw new IllegalArgumentException("jobId must not be blank");
    }
    payer = normaliseAddress(payer, "payer");
    provider = normaliseAddress(provider, "provider");
  }

  /** The 16-byte on-chain job id, the first half of {@code keccak256(jobId)}. */
  public byte[] jobIdHash() {
    return jobIdHash(jobId);
  }

  /** The 16-byte on-chain job id for a job identifier (collisions need ~2^64 jobs). */
  public static byte[] jobIdHash(String jobId) {
    return Arrays.copyOf(Hash.sha3(jobId.getBytes(StandardCharsets.UTF_8)), 16);
  }

  /** Lower-case 0x address; rejects anything that is not 20 bytes of hex. */
  public static String normaliseAddress(String address, String what) {
    Objects.requireNonNull(address, what);
    if (!WalletUtils.isValidAddress(address) || !address.startsWith("0x")) {
      throw new IllegalArgumentException(
          what + " is not a 0x-prefixed 20-byte address: " + address);
    }
    return address.toLowerCase(Locale.ROOT);
  }

  @Override
  public int compareTo(PairId o) {
    int c = payer.compareTo(o.payer);
    if (c == 0) {
      c = provider.compareTo(o.provider);
    }
    return c != 0 ? c : jobId.compareTo(o.jobId);
  }

  @Override
  public String toString() {
    return "Pair(" + jobId + ", payer=" + payer + ", provider=" + provider + ")";
  }
}
