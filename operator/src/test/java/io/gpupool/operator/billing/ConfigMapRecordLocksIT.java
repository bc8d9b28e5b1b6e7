package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A job's usage record is written under a lock of its own, not the whole store's: the placement
 * path (terms recorded before a gang's pods are created, on the reconcile thread) must not wait
 * behind metering writing another job's record. The store-wide lock made reconcile p99 go from 157
 * ms to 1.8 s in bench-operator (docs/benchmarks.md); a flight recording showed a reconcile waiting
 * 8.4 s for the store's monitor held by the metering thread.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigMapRecordLocksIT {
  static final String PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  static final String PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  KubernetesClient client;

  @Test
  void recordingOneJobsTermsDoesNotWaitForAnotherJobsRecordBeingWritten() throws Exception {
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, "billing")) {
      store.start();
      CountDownLatch inside = new CountDownLatch(1);
      CountDownLatch letGo = new CountDownLatch(1);
      // Metering is in the middle of job B's record (as when its write waits on the API server).
      CompletableFuture<Void> metering =
          CompletableFuture.runAsync(
              () ->
                  store.update(
                      new PairId("uid-b", PAYER, PROVIDER),
                      l -> {
                        inside.countDown();
                        await(letGo);
                        return l.withMetered(1, BigInteger.TEN);
                      }));
      assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<Void> placing =
          CompletableFuture.runAsync(
              () ->
                  store.putTerms(
                      new JobRef("TrainingJob", "team-a", "a", "uid-a"),
                      Map.of(
                          "a-worker-0",
                          new PlacedTerms(
                              "node-1", "provider-1", new PlacementTerms(BigInteger.TEN, 1000)))));
      try {
        placing.get(10, TimeUnit.SECONDS);
        assertThat(store.terms("uid-a", "a-worker-0")).isPresent();
      } finally {
        letGo.countDown();
        metering.get(10, TimeUnit.SECONDS);
      }
      assertThat(store.pairs("uid-b")).hasSize(1);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
