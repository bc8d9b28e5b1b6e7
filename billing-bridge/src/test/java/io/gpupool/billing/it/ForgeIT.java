package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the contract's Foundry suite (unit, fuzz, invariant) so that `mvn verify` covers it. */
class ForgeIT {

  @Test
  void forgeTestsPass() throws Exception {
    var forge = Tools.requireTool("node_modules/@foundry-rs/forge-linux-amd64/bin/forge", "forge");
    Tools.requireTool("node_modules/solc/soljson.js", "solc-js");
    Tools.node();
    Tools.Result r =
        Tools.run(Tools.contractsDir(), 300, List.of(forge.toString(), "test", "--offline"));
    assertThat(r.exit()).as("forge test failed:\n%s", r.output()).isZero();
    assertThat(r.output()).contains("0 failed").containsPattern("[1-9][0-9]* tests passed");
    assertThat(r.output())
        .contains("invariant_perPayerPaidNeverExceedsDeposited")
        .contains("invariant_noForbiddenCallSucceeded")
        .contains("test_payerListedTwiceCannotSpendEscrowTwice")
        .contains("test_thiefPaysItselfAtMostTheLimitPerPeriod");
  }
}
