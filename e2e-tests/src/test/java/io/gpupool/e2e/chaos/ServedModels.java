package io.gpupool.e2e.chaos;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The chaos run's InferenceJobs: one submitted every {@code window / count} (1-2 replicas of a
 * small model on A100s, which the run's TrainingJobs do not use, billed to the example {@code
 * serving} account), each served under the run's faults for a third of the window or so (a minute
 * at least) and then suspended, the rest suspended when the window ends. A suspended job's replicas
 * are stopped and their usage settled, so the end's checks hold them to what they hold TrainingJobs
 * to: no live pod left, every pod that ran in its usage record, the ledger equal to the chain to
 * the wei.
 *
 * <p>A job is suspended only once a replica of it has been seen running, so that its usage is
 * metered and reaches the ledger the end checks: under a short run's faults, on a loaded machine, a
 * leader may take it up only after its time was up (at load 46 none had before the window ended).
 * After the window it gets {@link #SERVE_PATIENCE} more, the faults stopped; a job suspended
 * without having served is counted as such.
 */
public final class ServedModels {
  private static final String NAMESPACE = "default";

  private final KubernetesClient admin;
  private final Duration gap;
  private final Duration life;
  private final int count;
  private final Random random;
  private final ChaosTally tally;

  /** How long after the window a job that has not served yet may still take to start. */
  public static final Duration SERVE_PATIENCE = Duration.ofMinutes(3);

  private final Map<String, Instant> suspendAt = new LinkedHashMap<>();
  private final Set<String> served = new HashSet<>();
  private Instant next;
  private Instant giveUpAt;
  private int submitted;

  public ServedModels(
      KubernetesClient admin, Duration window, int count, Random random, ChaosTally tally) {
    this.admin = admin;
    this.count = count;
    this.gap = window.dividedBy(Math.max(1, count));
    // at least a minute: under a short run's faults a replica may take that long to start
    Duration third = window.dividedBy(3);
    this.life = third.compareTo(Duration.ofMinutes(1)) < 0 ? Duration.ofMinutes(1) : third;
    this.random = random;
    this.tally = tally;
  }

  /** Submits the next job when due and suspends those whose time is up. */
  public void step(Instant now) {
    if (next == null) {
      next = now.plus(jitter(gap).dividedBy(4)); // the first one early: a short run sees it serve
    }
    if (submitted < count && !now.isBefore(next)) {
      String name = "chaos-serve-" + submitted++;
      int replicas = 1 + random.nextInt(2);
      admin.resource(Serialization.unmarshal(yaml(name, replicas), InferenceJob.class)).create();
      tally.add("inference jobs submitted", 1);
      suspendAt.put(name, now.plus(jitter(life)));
      next = now.plus(jitter(gap));
    }
    suspendDue(now);
  }

  /** The window ended: every job is due now, those that have not served yet once they have. */
  public void windowEnded(Instant now) {
    suspendAt.replaceAll((name, at) -> now);
    giveUpAt = now.plus(SERVE_PATIENCE);
    suspendDue(now);
  }

  /** After the window: suspends the jobs that have served since (or all, once patience ran out). */
  public void afterWindow(Instant now) {
    suspendDue(now);
  }

  private void suspendDue(Instant now) {
    for (var e : Map.copyOf(suspendAt).entrySet()) {
      String name = e.getKey();
      boolean hasServed = hasServed(name); // looked at before it is due: its pod may go again
      if (now.isBefore(e.getValue())) {
        continue;
      }
      if (hasServed) {
        suspend(name);
      } else if (giveUpAt != null && !now.isBefore(giveUpAt)) {
        tally.add("inference jobs suspended before a replica ran", 1);
        suspend(name);
      }
    }
  }

  /** A replica pod of the job has been seen Running (remembered: pods come and go). */
  private boolean hasServed(String name) {
    if (served.contains(name)) {
      return true;
    }
    boolean running =
        admin
            .pods()
            .inNamespace(NAMESPACE)
            .withLabel(GpupoolApi.JOB_NAME_LABEL, name)
            .list()
            .getItems()
            .stream()
            .anyMatch(
                p ->
                    Invariants.isOwnedBy(p, "InferenceJob")
                        && p.getStatus() != null
                        && "Running".equals(p.getStatus().getPhase()));
    if (running) {
      served.add(name);
    }
    return running;
  }

  private void suspend(String name) {
    admin
        .resources(InferenceJob.class)
        .inNamespace(NAMESPACE)
        .withName(name)
        .edit(
            j -> {
              j.getSpec().suspend = true;
              return j;
            });
    suspendAt.remove(name);
    tally.add("inference jobs suspended", 1);
  }

  /** InferenceJobs not yet Suspended or Failed, plus live pods of those that are. */
  public static long stillServing(KubernetesClient admin) {
    Set<String> ended = new HashSet<>();
    long open = 0;
    for (InferenceJob j :
        admin.resources(InferenceJob.class).inNamespace(NAMESPACE).list().getItems()) {
      if (Invariants.ended(j)) {
        ended.add(j.getMetadata().getName());
      } else {
        open++;
      }
    }
    for (Pod p :
        admin
            .pods()
            .inNamespace(NAMESPACE)
            .withLabel(GpupoolApi.JOB_NAME_LABEL)
            .list()
            .getItems()) {
      if (Invariants.live(p)
          && ended.contains(p.getMetadata().getLabels().get(GpupoolApi.JOB_NAME_LABEL))
          && Invariants.isOwnedBy(p, "InferenceJob")) {
        open++;
      }
    }
    return open;
  }

  /**
   * What the InferenceJobs left in the ledger: the replica pods their usage records hold and the
   * wei metered for them (pairs with a payer and a payout address), so the table shows that the
   * ledger check at the end covered served usage, not only training.
   */
  public static void record(ClusterView view, ChaosTally tally) {
    Set<String> records = new HashSet<>();
    view.inferenceJobs().forEach(j -> records.add("gpupool-usage-" + j.getMetadata().getUid()));
    long pods = 0;
    BigInteger wei = BigInteger.ZERO;
    for (ConfigMap cm : view.usageRecords()) {
      if (!records.contains(cm.getMetadata().getName()) || cm.getData() == null) {
        continue;
      }
      pods += cm.getData().keySet().stream().filter(k -> k.startsWith("pod.")).count();
      wei = wei.add(Invariants.meteredWei(cm));
    }
    tally.set("inference: replica pods in usage records", pods);
    tally.set(
        "inference: gwei metered (payer and payout address known)",
        wei.divide(BigInteger.TEN.pow(9)).longValueExact());
  }

  private Duration jitter(Duration mean) {
    return Duration.ofMillis((long) (mean.toMillis() * (0.5 + random.nextDouble())));
  }

  private static String yaml(String name, int replicas) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: InferenceJob
        metadata:
          name: %s
          namespace: %s
        spec:
          image: ghcr.io/gpupool/examples/serve:0.1
          model:
            parameters: 1B
            layers: 16
          replicas:
            min: %d
            max: %d
          allowGpuSharing: false
          resources:
            gpuModels: ["NVIDIA-A100-SXM4-80GB"]
          budget:
            account: serving # examples/billing-accounts.yaml
        """
        .formatted(name, NAMESPACE, replicas, replicas);
  }
}
