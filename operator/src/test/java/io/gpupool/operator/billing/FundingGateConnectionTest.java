package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.chain.ChainUnavailableException;
import java.math.BigInteger;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Billing is on but the leader has not reached the contract yet: no job may start (it would run
 * unbilled, or on stakes never read), and the job's condition says why.
 */
class FundingGateConnectionTest {

  @Test
  void noJobStartsBeforeTheLeaderHasReachedTheBillingContract() {
    FundingGate gate = new FundingGate(null, null, Clock.systemUTC(), uid -> Optional.empty());
    AtomicBoolean up = new AtomicBoolean(false);
    ChainConnection connection =
        new ChainConnection(
            () -> {
              if (!up.get()) {
                throw new ChainUnavailableException("RPC unavailable: 502", null);
              }
            },
            (task, wait) -> {},
            () -> {});
    gate.waitFor(connection);
    connection.start();
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName("j").withNamespace("ns").withUid("u").build());

    Admission refused = gate.admit(job, null, BigInteger.TEN);

    assertThat(refused.mayRun()).isFalse();
    assertThat(refused.reason()).isEqualTo("BillingChainUnavailable");
    assertThat(refused.message())
        .contains("RPC unavailable: 502")
        .contains("starts once the operator has reached it");
    assertThat(gate.admit("0xpayer", BigInteger.TEN).mayRun()).isFalse();
  }
}
