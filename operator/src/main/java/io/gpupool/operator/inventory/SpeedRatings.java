package io.gpupool.operator.inventory;

import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Nodes that hardware challenges measured slower than the GPU product their labels claim, with the
 * share of the claimed speed they deliver. A fact about the node, as its labels are: the planner
 * rates its GPUs at that speed, and billing prices pods placed there at the same share of the
 * provider's listed price (the payer pays for the speed it gets). Written by the trust ledger; a
 * rating holds only for the product claimed when it was measured.
 */
@ApplicationScoped
public class SpeedRatings {
  private final Map<String, Rating> ratings = new ConcurrentHashMap<>();

  /** A node's rating for the product it claimed. */
  private record Rating(String product, double factor) {}

  /** Rates {@code node} claiming {@code product} at {@code factor} (1 forgets the rating). */
  public void rate(String node, String product, double factor) {
    if (!(factor > 0) || factor > 1) {
      throw new IllegalArgumentException("speed factor must be in (0, 1], was " + factor);
    }
    if (factor == 1.0) {
      ratings.remove(node);
    } else {
      ratings.put(node, new Rating(product, factor));
    }
  }

  /** Forgets a node's rating (it left the pool). */
  public void forget(String node) {
    ratings.remove(node);
  }

  /**
   * The share of its claimed speed {@code node} delivers while claiming {@code product}; 1 if
   * unrated.
   */
  public double factor(String node, String product) {
    Rating r = ratings.get(node);
    return r != null && r.product().equals(product) ? r.factor() : 1.0;
  }

  /**
   * {@code listedWei} per GPU-hour scaled by the node's rating, rounded down to a wei: what a pod
   * placed on it is billed per GPU-hour.
   */
  public BigInteger price(String node, String product, BigInteger listedWei) {
    double f = factor(node, product);
    if (f == 1.0) {
      return listedWei;
    }
    return new BigDecimal(listedWei)
        .multiply(BigDecimal.valueOf(f))
        .setScale(0, RoundingMode.FLOOR)
        .toBigIntegerExact();
  }
}
