package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import java.math.BigInteger;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * What an InferenceJob's replica groups cost per hour at their providers' listed prices, for the
 * budget gate: the pods it runs (read from their placement annotations) plus the shards it is about
 * to create. Pure.
 */
final class ReplicaCost {

  /** A provider's price for {@code milliGpus} of {@code product} for one hour, in wei. */
  @FunctionalInterface
  interface Prices {
    Optional<BigInteger> weiPerHour(String provider, String product, long milliGpus);
  }

  private ReplicaCost() {}

  /**
   * Hourly cost of {@code running} pods and {@code planned} shards; capacity a provider does not
   * price costs nothing (as the meter charges it).
   */
  static BigInteger weiPerHour(
      Collection<Pod> running, Collection<ShardAssignment> planned, Prices prices) {
    BigInteger total = BigInteger.ZERO;
    for (Pod p : running) {
      Map<String, String> a = p.getMetadata().getAnnotations();
      Map<String, String> labels = p.getMetadata().getLabels();
      String provider = labels == null ? null : labels.get(GpupoolApi.PROVIDER_LABEL);
      String product = a == null ? null : a.get(InferenceGroup.GPU_PRODUCT_ANNOTATION);
      if (provider == null || product == null) {
        continue;
      }
      long milli =
          milliGpus(
              intValue(a, InferenceGroup.GPUS_ANNOTATION, 1),
              intValue(a, InferenceGroup.GPU_MILLI_ANNOTATION, 1000));
      total = total.add(prices.weiPerHour(provider, product, milli).orElse(BigInteger.ZERO));
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

  private static int intValue(Map<String, String> a, String key, int otherwise) {
    try {
      return a.get(key) == null ? otherwise : Integer.parseInt(a.get(key).trim());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
