package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checked-in ABI/BIN are what the compile script produces from the checked-in source. */
class ContractArtifactsIT {

  @Test
  void checkedInAbiAndBinAreUpToDate(@TempDir Path out) throws Exception {
    Path contracts = Tools.contractsDir();
    Tools.requireTool("node_modules/solc/soljson.js", "solc-js");
    Tools.Result r =
        Tools.run(contracts, 120, List.of(Tools.node(), "scripts/compile.js", out.toString()));
    assertThat(r.exit()).as(r.output()).isZero();
    Path checkedIn = contracts.resolve("../src/main/resources/contracts").normalize();
    for (String f :
        List.of("GpuPoolBilling.abi", "GpuPoolBilling.bin", "GpuPoolBilling.solc-version")) {
      assertThat(Files.readString(out.resolve(f)))
          .as(
              "%s differs from a fresh compile: run `node billing-bridge/contracts/scripts/compile.js`",
              f)
          .isEqualTo(Files.readString(checkedIn.resolve(f)));
    }
  }
}
