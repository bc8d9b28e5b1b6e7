package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Usage;
import org.junit.jupiter.api.Test;

class CostCapTest {
  private static Budget cap(String maxCost) {
    Budget b = new Budget();
    b.payer = "0x0000000000000000000000000000000000000001";
    b.maxCost = maxCost;
    return b;
  }

  private static Usage cost(String cost) {
    Usage u = new Usage();
    u.cost = cost;
    return u;
  }

  @Test
  void underTheCapTheJobRuns() {
    assertThat(CostCap.reached(cap("2.50"), cost("2.499999999999999999"))).isEmpty();
  }

  @Test
  void atOrOverTheCapItStopsSayingWhy() {
    assertThat(CostCap.reached(cap("2.50"), cost("2.500000000000000000")))
        .hasValue("cost 2.5 reached spec.budget.maxCost 2.5; raise it to run again");
    assertThat(CostCap.reached(cap("1"), cost("3.25"))).get().asString().startsWith("cost 3.25");
  }

  @Test
  void noCapNoUsageOrNoBudgetNeverStops() {
    assertThat(CostCap.reached(null, cost("100"))).isEmpty();
    assertThat(CostCap.reached(cap(null), cost("100"))).isEmpty();
    assertThat(CostCap.reached(cap("1"), null)).isEmpty();
    assertThat(CostCap.reached(cap("1"), new Usage())).isEmpty();
  }
}
