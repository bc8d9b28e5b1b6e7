package io.gpupool.scheduler.queue;

import java.util.Objects;
import java.util.Set;

/**
 * A queue's quota for one GPU flavor: a named group of products that count as one resource.
 *
 * @param flavor name of the group, shared by the queues of a cohort (e.g. {@code a100})
 * @param products GPU products in the group, canonical spelling
 * @param nominal GPUs the queue is guaranteed
 * @param borrowingLimit GPUs beyond nominal it may borrow from its cohort; null = no limit
 * @param lendingLimit GPUs of its nominal quota others in the cohort may borrow; null = all
 */
public record Quota(
    String flavor,
    Set<String> products,
    int nominal,
    Integer borrowingLimit,
    Integer lendingLimit) {

  public Quota {
    Objects.requireNonNull(flavor, "flavor");
    products = Set.copyOf(products);
    if (products.isEmpty()) {
      throw new IllegalArgumentException("flavor " + flavor + " lists no GPU product");
    }
    if (nominal < 0) {
      throw new IllegalArgumentException("flavor " + flavor + ": nominal quota below 0");
    }
    if (borrowingLimit != null && borrowingLimit < 0) {
      throw new IllegalArgumentException("flavor " + flavor + ": borrowing limit below 0");
    }
    if (lendingLimit != null && (lendingLimit < 0 || lendingLimit > nominal)) {
      throw new IllegalArgumentException(
          "flavor " + flavor + ": lending limit must be between 0 and the nominal quota");
    }
  }

  /** Unlimited borrowing, everything lendable. */
  public static Quota of(String flavor, Set<String> products, int nominal) {
    return new Quota(flavor, products, nominal, null, null);
  }

  /** GPUs of the nominal quota the cohort may use. */
  int lendable() {
    return lendingLimit == null ? nominal : lendingLimit;
  }

  /** GPUs of the nominal quota no other queue can ever take. */
  int guaranteed() {
    return nominal - lendable();
  }

  /** The most GPUs the queue may ever hold in this flavor. */
  long maxUsage() {
    return borrowingLimit == null ? Long.MAX_VALUE : (long) nominal + borrowingLimit;
  }

  boolean admits(Set<String> allowedProducts) {
    if (allowedProducts.isEmpty()) {
      return true;
    }
    for (String product : products) {
      if (allowedProducts.contains(product)) {
        return true;
      }
    }
    return false;
  }
}
