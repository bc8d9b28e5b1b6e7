package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.e2e.chaos.ChaosTally;
import io.gpupool.e2e.chaos.Violation;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The chaos harness, short and hard: for a minute ten TrainingJobs and one InferenceJob (served,
 * then suspended) are submitted while the API server answers about one update in three with a fault
 * of some kind and cuts watches, the chain's RPC endpoint errs, times out and goes down, anvil is
 * SIGKILLed right after a settlement (losing the blocks mined since its last state write, that
 * settlement among them) and restarted on its state, nodes churn and the leading operator replica
 * is SIGKILLed; then the faults stop and every job must end. No invariant may break, neither while
 * it runs nor once every job has ended and settlement is quiet.
 */
class ChaosE2E {

  @Test
  void nothingIsLostOrDoubledUnderApiFaultsChainOutagesNodeChurnAndLeaderKills() throws Exception {
    ChaosRun.Settings settings =
        new ChaosRun.Settings(
            Duration.ofSeconds(60),
            10,
            "all=0.03,conflict=0.2,throttle=0.05,watch-closed=0.3,watch-gone=0.3",
            0.3,
            Duration.ofSeconds(10),
            Duration.ofSeconds(30),
            Duration.ofSeconds(30),
            10,
            200,
            19,
            1);
    ChaosTally tally = ChaosRun.run(settings, line -> System.out.println(line));
    System.out.println(tally.table());
    assertThat(tally.violations()).as(tally.table()).isEmpty();
    assertThat(tally.event("jobs submitted")).isEqualTo(10);
    assertThat(tally.event("jobs succeeded") + tally.event("jobs failed")).isEqualTo(10);
    assertThat(tally.samples()).as("the invariants were checked while it ran").isGreaterThan(10);
    // an InferenceJob under the same faults, suspended once a replica ran (after the window at
    // the latest, the faults stopped) and held to the end checks (Suspended, no live pod, its
    // replicas' usage in the ledger to the wei)
    assertThat(tally.event("inference jobs submitted")).isEqualTo(1);
    assertThat(tally.event("inference jobs suspended")).isEqualTo(1);
    assertThat(tally.event("inference jobs suspended before a replica ran")).isZero();
    assertThat(tally.event("inference: replica pods in usage records")).isPositive();
    // which faults a short run draws depends on how many requests the operator makes: each kind
    // is counted in the table, the run as a whole must have met every source of faults
    assertThat(tally.faults("API", false)).as("API request faults").isPositive();
    assertThat(tally.faults("API", true)).as("watches closed or expired").isPositive();
    assertThat(tally.faults("RPC", false)).as("chain RPC faults and outages").isPositive();
    assertThat(tally.faults("node", false)).as("node churn").isPositive();
    // the crash took blocks back (a settlement the operator had counted among them, when it came
    // after a send); on-chain balance = settled = metered to the wei at the end (no violation
    // below) says the operator settled them again
    assertThat(tally.faultCount("chain", "anvil SIGKILLed and restarted")).isPositive();
    assertThat(tally.event("chain: blocks lost to anvil SIGKILLs"))
        .as("blocks lost to the crash")
        .isPositive();
    assertThat(
            tally.event("operator: leader SIGKILLed at a random moment")
                + tally.event("operator: leader SIGKILLed mid-placement")
                + tally.event(
                    "operator: leader SIGKILLed between a transaction's send and its receipt"))
        .isPositive();
    assertThat(tally.violations()).extracting(Violation::kind).isEmpty();
  }
}
