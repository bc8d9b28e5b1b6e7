package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.metering.PairUsage;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the billing and trust ITs share: a region of one-GPU RTX 4090 nodes priced at {@link
 * #PRICE}, TrainingJobs in {@link #NS} paid by a payer, the waits for their pods and phases, and
 * the arithmetic of what a pod costs.
 */
final class BillingFixture {
  private BillingFixture() {}

  static final Duration TIMEOUT = Duration.ofSeconds(30);
  static final String NS = "default";
  static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";
  static final String PAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
  static final BigInteger PRICE = TokenUnits.toWei("0.40");

  /**
   * The GpuProvider {@code prov-<region>} (paid out to {@code payout}, or the test providers'
   * default address when null) with {@code nodes} one-GPU nodes named {@code <region>-n<i>}.
   */
  static void pool(KubernetesClient client, String region, String payout, int nodes) {
    String provider = "prov-" + region;
    GpuProvider p = TestNodes.provider(provider, RTX4090, "0.40");
    if (payout != null) {
      p.getSpec().payoutAddress = payout;
    }
    client.resource(p).create();
    for (int i = 0; i < nodes; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-n" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
  }

  /** A TrainingJob in {@link #NS} of {@code workers} one-GPU workers, paid by {@code payer}. */
  static TrainingJob job(String name, String region, int workers, String payer) {
    TrainingJob job = TestJobs.training(NS, name, region, workers);
    job.getSpec().model.globalBatchSize = 64;
    if (payer != null) {
      job.getSpec().budget = new Budget();
      job.getSpec().budget.payer = payer;
    }
    return job;
  }

  static List<Pod> awaitPods(KubernetesClient client, String job, int n) {
    return new ClusterWaits(client, TIMEOUT).pods(NS, job, n);
  }

  static void awaitPhase(KubernetesClient client, String job, TrainingJobPhase phase) {
    new ClusterWaits(client, TIMEOUT)
        .job(TrainingJob.class, NS, job, j -> j.getStatus().phase == phase);
  }

  /** The pod as stored now. */
  static Pod fresh(KubernetesClient client, Pod pod) {
    return client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get();
  }

  static String uid(KubernetesClient client, String job) {
    return client
        .resources(TrainingJob.class)
        .inNamespace(NS)
        .withName(job)
        .get()
        .getMetadata()
        .getUid();
  }

  static Instant startedAt(Pod pod) {
    return Instant.parse(
        pod.getStatus().getContainerStatuses().get(0).getState().getRunning().getStartedAt());
  }

  static Instant finishedAt(Pod pod) {
    return Instant.parse(
        pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getFinishedAt());
  }

  /** milli-GPU x ms of one whole-GPU pod, truncated to ms like Metering. */
  static long milliGpuMillis(Instant start, Instant end) {
    return 1000L * Duration.between(start, end).toMillis();
  }

  static BigInteger costWei(long milliGpuMillis) {
    return BigInteger.valueOf(milliGpuMillis)
        .multiply(PRICE)
        .divide(PairUsage.MILLI_GPU_MILLIS_PER_GPU_HOUR);
  }
}
