package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.Web3jBillingChain;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Guards the gas target: steady-state batches of 100 pairs cost at most 10,000 gas per pair. */
class GasBudgetIT extends AnvilTestBase {

  long settle(Web3jBillingChain chain, List<PairId> pairs, long base) {
    List<SettlementItem> items = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      items.add(new SettlementItem(pairs.get(i), BigInteger.valueOf(base + i)));
    }
    items.sort((a, b) -> a.pair().compareTo(b.pair()));
    var receipt = SettlementAnvilIT.waitFor(chain, chain.submitSettlement(items));
    assertThat(receipt.success()).isTrue();
    assertThat(receipt.events()).hasSize(pairs.size());
    return receipt.gasUsed().longValueExact();
  }

  @Test
  void steadyStateBatchOf100StaysUnder10kGasPerPair() {
    steadyStateGasPerPair("no challenge window");
  }

  /**
   * Earnings that wait out a challenge window go into the provider's maturing buckets: one more
   * slot per provider per batch, nothing more per pair.
   */
  @Test
  void aChallengeWindowKeepsTheBudget() {
    deployer()
        .setTrustParameters(contract, dev.owner(), java.time.Duration.ofHours(1), 5_000, 1_000);
    steadyStateGasPerPair("a one-hour challenge window");
  }

  void steadyStateGasPerPair(String setting) {
    fund(0, ETH.multiply(BigInteger.TEN));
    fund(1, ETH.multiply(BigInteger.TEN));
    Web3jBillingChain chain = reporterChain();
    List<PairId> pairs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      pairs.add(new PairId("gas/job-" + i, payerAddress(i % 2), providerAddress((i / 2) % 4)));
    }
    // realistic wei magnitudes (~0.12 ETH cumulative per pair): calldata grows with them
    long first = settle(chain, pairs, 123_456_789_012_345_678L);
    long steady = settle(chain, pairs, 133_456_789_012_345_681L);
    long steadyAgain = settle(chain, pairs, 143_333_332_223_333_335L);
    System.out.printf(
        "settleBatch of 100 pairs with %s: first %d gas, steady %d and %d gas%n",
        setting, first, steady, steadyAgain);
    assertThat(first / 100).as("first settlement gas per pair").isGreaterThan(20_000);
    assertThat(Math.max(steady, steadyAgain) / 100)
        .as("steady-state gas per pair (tx gas %d)", steady)
        .isLessThanOrEqualTo(10_000);
  }
}
