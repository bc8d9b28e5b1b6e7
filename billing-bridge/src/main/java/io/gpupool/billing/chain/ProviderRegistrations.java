package io.gpupool.billing.chain;

import java.util.List;

/**
 * Providers whose {@code ProviderRegistered} event lies in a block range, and the last block read:
 * the next read starts after it.
 *
 * @param providers the registered providers' addresses (lower case), in chain order, possibly
 *     repeated (a provider may change its payout address)
 * @param toBlock the last block read
 */
public record ProviderRegistrations(List<String> providers, long toBlock) {
  public ProviderRegistrations {
    providers = List.copyOf(providers);
  }
}
