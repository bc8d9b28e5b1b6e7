package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.PairId;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The jobs whose pods are metered: finding a job by its reference (the controllers' caches first,
 * then the API server) and who pays its usage. A job's payer is remembered once known, and the
 * usage record's payer wins over the job's current spec: a pod keeps the pair it was first metered
 * under.
 */
final class MeteredJobs {
  private final KubernetesClient client;
  private final ConfigMapBillingStore store;
  private final Map<String, String> payers = new ConcurrentHashMap<>();
  private volatile Function<JobRef, Optional<HasMetadata>> cachedJobs = job -> Optional.empty();
  private volatile BiFunction<HasMetadata, Budget, Optional<String>> payerResolver =
      (job, budget) -> budget == null ? Optional.empty() : Optional.ofNullable(budget.payer);

  MeteredJobs(KubernetesClient client, ConfigMapBillingStore store) {
    this.client = client;
    this.store = store;
  }

  /** See {@link UsageMeter#findJobsIn}. */
  void findIn(Function<JobRef, Optional<HasMetadata>> cached) {
    this.cachedJobs = cached;
  }

  /** See {@link UsageMeter#resolvePayersWith}. */
  void resolvePayersWith(BiFunction<HasMetadata, Budget, Optional<String>> resolver) {
    this.payerResolver = resolver;
  }

  /**
   * The payer of a job: what the store already knows, its budget's payer as resolved, or {@link
   * UsageMeter#NO_ADDRESS}.
   */
  String payer(JobRef job, HasMetadata live) {
    String known = payers.get(job.uid());
    if (known != null) {
      return known;
    }
    String payer = resolvePayer(job, live);
    // An unknown payer is asked again next time: the job's account may not be read yet.
    if (!UsageMeter.NO_ADDRESS.equals(payer)) {
      payers.put(job.uid(), payer);
    }
    return payer;
  }

  /** Forgets a job whose usage record was deleted. */
  void forget(String jobUid) {
    payers.remove(jobUid);
  }

  private String resolvePayer(JobRef job, HasMetadata known) {
    String recorded =
        store.pairs(job.uid()).stream()
            .map(l -> l.pair().payer())
            .filter(p -> !UsageMeter.NO_ADDRESS.equals(p))
            .findFirst()
            .orElse(null);
    if (recorded != null) {
      return recorded;
    }
    Optional<HasMetadata> live = known != null ? Optional.of(known) : find(job);
    if (live.isEmpty()) {
      return UsageMeter.NO_ADDRESS;
    }
    Budget b =
        live.get() instanceof TrainingJob tj
            ? tj.getSpec() == null ? null : tj.getSpec().budget
            : ((InferenceJob) live.get()).getSpec() == null
                ? null
                : ((InferenceJob) live.get()).getSpec().budget;
    return payerResolver
        .apply(live.get(), b)
        .flatMap(MeteredJobs::address)
        .orElse(UsageMeter.NO_ADDRESS);
  }

  /** The job itself, if it still exists with this UID: from the caches, else the API server. */
  Optional<HasMetadata> find(JobRef job) {
    Optional<HasMetadata> cached = cachedJobs.apply(job).filter(j -> sameJob(job, j));
    return cached.isPresent() ? cached : get(job);
  }

  private static boolean sameJob(JobRef job, HasMetadata found) {
    return job.uid().equals(found.getMetadata().getUid());
  }

  /**
   * The job as the API server has it (a job the caches do not hold may be gone, or not yet seen).
   */
  private Optional<HasMetadata> get(JobRef job) {
    HasMetadata found =
        "InferenceJob".equals(job.kind())
            ? client
                .resources(InferenceJob.class)
                .inNamespace(job.namespace())
                .withName(job.name())
                .get()
            : client
                .resources(TrainingJob.class)
                .inNamespace(job.namespace())
                .withName(job.name())
                .get();
    return Optional.ofNullable(found).filter(j -> sameJob(job, j));
  }

  /** A normalised address, or empty when {@code s} is none. */
  static Optional<String> address(String s) {
    try {
      return s == null
          ? Optional.empty()
          : Optional.of(PairId.normaliseAddress(s.strip(), "address"));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
