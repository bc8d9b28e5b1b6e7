package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.billing.PlacedTerms;
import java.math.BigInteger;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

/**
 * What an InferenceJob's replica groups cost per hour, for the budget gate: the pods it runs at the
 * terms the operator fixed when it placed them ({@link PlacedTerms}, never the pods' annotations,
 * which a tenant may rewrite), plus the shards it is about to create at their providers' listed
 * prices. Pure.
 */
final class ReplicaCost {

  /** A provider's price for {@code milliGpus} of {@code product} for one hour, in wei. */
  @FunctionalInterface
  interface Prices {
    Optional<BigInteger> weiPerHour(String provider, String product, long milliGpus);
  }

  private ReplicaCost() {}

  /**
   * Hourly cost of {@code running} pods at their terms ({@code terms}: empty for a pod the operator
   * has no terms for, which costs nothing, as the meter charges it) and {@code planned} shards;
   * capacity a provider does not price costs nothing.
   */
  static BigInteger weiPerHour(
      Collection<Pod> running,
      Function<Pod, Optional<PlacedTerms>> terms,
      Collection<ShardAssignment> planned,
      Prices prices) {
    BigInteger total = BigInteger.ZERO;
    for (Pod p : running) {
      total = total.add(terms.apply(p).map(t -> t.terms().weiPerHour()).orElse(BigInteger.ZERO));
    }
    for (ShardAssignment s : planned) {
      total =
          total.add(
              prices
                  .weiPerHour(s.provider(), s.gpuProduct(), milliGpus(s.gpus(), s.gpuMilli()))
                  .orElse(BigInteger.ZERO));
    }
    return total;
  }

  /** A shard's GPUs in thousandths: {@code gpus} whole GPUs, or one share of {@code gpuMilli}. */
  static long milliGpus(int gpus, int gpuMilli) {
    return gpuMilli < 1000 ? gpuMilli : 1000L * gpus;
  }
}
