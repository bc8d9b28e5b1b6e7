package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.metering.Metering;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The billing terms of a pod, fixed when the operator places it: the price per GPU-hour (the
 * provider's listed price at placement, capped by the job's {@code maxPricePerGpuHour}) and the
 * share of GPUs it holds. A provider who raises its price or relabels its node later changes
 * nothing for pods already placed. Metering reads them from the operator's own usage record ({@link
 * PlacedTerms}); the copy written on the pod as annotations is information only (a tenant may edit
 * pods in its namespace). Pure.
 *
 * @param priceWeiPerGpuHour wei per whole GPU-hour
 * @param milliGpus GPUs held, in thousandths of a GPU
 */
public record PlacementTerms(BigInteger priceWeiPerGpuHour, long milliGpus) {
  /** Price per whole GPU-hour in wei, a decimal integer. */
  public static final String PRICE_ANNOTATION = "gpupool.io/billing-price-wei-per-gpu-hour";

  /** GPUs held in thousandths of a GPU, a decimal integer. */
  public static final String MILLI_GPUS_ANNOTATION = "gpupool.io/billing-milli-gpus";

  /** Longest decimal accepted when reading the annotations back (a price below 10^6 tokens). */
  private static final int MAX_DIGITS = 25;

  public PlacementTerms {
    if (priceWeiPerGpuHour == null || priceWeiPerGpuHour.signum() < 0) {
      throw new IllegalArgumentException("price must be >= 0: " + priceWeiPerGpuHour);
    }
    if (milliGpus < 0) {
      throw new IllegalArgumentException("milliGpus must be >= 0: " + milliGpus);
    }
  }

  /**
   * The terms of a pod placed on a node whose provider lists {@code listedWei} (empty when it does
   * not price the product: the pod is then billed at 0) for a job accepting at most {@code
   * maxPricePerGpuHour} (a decimal token amount, null for no ceiling).
   */
  public static PlacementTerms at(
      Optional<BigInteger> listedWei, String maxPricePerGpuHour, long milliGpus) {
    BigInteger price = listedWei.orElse(BigInteger.ZERO);
    if (maxPricePerGpuHour != null) {
      BigInteger cap = ceiling(maxPricePerGpuHour);
      if (cap != null && cap.compareTo(price) < 0) {
        price = cap;
      }
    }
    return new PlacementTerms(price, milliGpus);
  }

  private static BigInteger ceiling(String maxPricePerGpuHour) {
    try {
      return TokenUnits.toWei(maxPricePerGpuHour.strip());
    } catch (IllegalArgumentException | ArithmeticException e) {
      return null; // the schema refuses such a value; validation reports it on the job
    }
  }

  /** What these terms cost for one hour, in wei, rounded up (as metering charges it). */
  public BigInteger weiPerHour() {
    return Metering.costCeiling(milliGpus, priceWeiPerGpuHour, Duration.ofHours(1));
  }

  /** {@code pod} with these terms written on it; they replace any the pod template brought. */
  public Pod writeOn(Pod pod) {
    return new PodBuilder(pod)
        .editMetadata()
        .addToAnnotations(PRICE_ANNOTATION, priceWeiPerGpuHour.toString())
        .addToAnnotations(MILLI_GPUS_ANNOTATION, Long.toString(milliGpus))
        .endMetadata()
        .build();
  }

  /** The terms written on {@code pod}; empty when they are missing or not readable. */
  public static Optional<PlacementTerms> readFrom(Pod pod) {
    Map<String, String> a = pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations();
    if (a == null) {
      return Optional.empty();
    }
    String price = a.get(PRICE_ANNOTATION);
    String milli = a.get(MILLI_GPUS_ANNOTATION);
    if (!decimal(price) || !decimal(milli) || milli.length() > 9) {
      return Optional.empty();
    }
    return Optional.of(new PlacementTerms(new BigInteger(price), Long.parseLong(milli)));
  }

  private static boolean decimal(String s) {
    return s != null
        && !s.isEmpty()
        && s.length() <= MAX_DIGITS
        && s.chars().allMatch(c -> c >= '0' && c <= '9');
  }
}
