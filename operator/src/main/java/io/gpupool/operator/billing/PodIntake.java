package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.billing.PairId;
import io.gpupool.operator.inventory.ProviderDirectory;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Decides, the first time the meter sees a pod running, whether it is metered and under which pair
 * and terms: only a pod the operator placed ({@link PodOwnership}), at the terms and provider the
 * operator recorded when it placed it ({@link PlacedTerms}), paid by its job's payer and to its
 * provider's payout address. Pods found not to be the operator's are remembered (by UID) and never
 * looked up again until deleted.
 */
final class PodIntake {
  private static final Logger LOG = Logger.getLogger(PodIntake.class);

  /**
   * How long after its creation a pod may be missing from its job's status before it is counted and
   * logged as not (yet) the operator's: the status is written in the reconcile that creates the
   * pods.
   */
  static final Duration PLACEMENT_GRACE = Duration.ofSeconds(60);

  private final ProviderDirectory providers;
  private final ConfigMapBillingStore store;
  private final MeteredJobs jobs;

  /** Pods found not to be the operator's (by UID): neither metered nor looked up again. */
  private final Set<String> ignored = ConcurrentHashMap.newKeySet();

  /** Pods past the grace and still not in their job's status: counted and logged once each. */
  private final Set<String> notPlacedReported = ConcurrentHashMap.newKeySet();

  /**
   * Pods the operator is deleting (by UID), with the job whose step deletes them as its own: taken
   * in without their job's status listing them ({@link PodOwnership#checkRemoved}) at any look
   * until their deletion is seen, since the step may have read the pod before it started running.
   */
  private final Map<String, HasMetadata> removing = new ConcurrentHashMap<>();

  private volatile Consumer<PodOwnership.Verdict> onIgnored = v -> {};
  private volatile BiFunction<Pod, HasMetadata, Optional<PlacedTerms>> termsAtAdoption =
      (pod, job) -> Optional.empty();

  PodIntake(ProviderDirectory providers, ConfigMapBillingStore store, MeteredJobs jobs) {
    this.providers = providers;
    this.store = store;
    this.jobs = jobs;
  }

  /** See {@link UsageMeter#onIgnoredPod}. */
  void onIgnored(Consumer<PodOwnership.Verdict> hook) {
    this.onIgnored = hook;
  }

  /** See {@link UsageMeter#rebuildTermsWith}. */
  void rebuildTermsWith(BiFunction<Pod, HasMetadata, Optional<PlacedTerms>> rebuild) {
    this.termsAtAdoption = rebuild;
  }

  /**
   * True when the pod was found not to be the operator's: it is not looked at again. A deleted one
   * is forgotten (its UID never comes back).
   */
  boolean ignored(String podUid, boolean deleted) {
    if (!ignored.contains(podUid)) {
      return false;
    }
    if (deleted) {
      ignored.remove(podUid);
    }
    return true;
  }

  /** The operator is deleting the pod as one of {@code job}'s own (see {@link #removing}). */
  void removing(String podUid, HasMetadata job) {
    removing.put(podUid, job);
  }

  /** A pod was deleted: nothing is kept of it here. */
  void deleted(String podUid) {
    notPlacedReported.remove(podUid);
    removing.remove(podUid);
  }

  /**
   * The record of a pod seen running for the first time (since {@code start}), or null when it is
   * not metered: not (or not yet: its job's status may trail the pod's creation) found to be the
   * operator's, or its provider not known yet.
   */
  TrackedPod admit(Pod pod, String podUid, Instant start, Instant now) {
    Optional<JobRef> ref = JobRef.of(pod);
    // a pod already in the usage records was checked when first seen (maybe by a previous run)
    boolean recorded = ref.isPresent() && store.pods(ref.get().uid()).containsKey(podUid);
    HasMetadata job = null;
    // the terms the operator recorded when it placed the pod; never the pod's annotations, which
    // a tenant allowed to edit pods in its namespace could rewrite before this first look
    Optional<PlacedTerms> terms =
        ref.flatMap(r -> store.terms(r.uid(), pod.getMetadata().getName()));
    if (!recorded) {
      HasMetadata removedFrom = removing.get(podUid);
      job = removedFrom != null ? removedFrom : ref.flatMap(jobs::find).orElse(null);
      PodOwnership.Verdict verdict =
          removedFrom != null
              ? PodOwnership.checkRemoved(pod, ref.orElse(null), job, terms)
              : PodOwnership.check(pod, ref.orElse(null), job, terms);
      if (verdict == PodOwnership.Verdict.NO_TERMS && !store.placedTermsRecorded(ref.get().uid())) {
        // Listed in its job's status on its node (or being deleted as the job's), in a job the
        // operator recorded no terms for at placement: placed by an operator that kept none (an
        // earlier version). Billed from its start at terms rebuilt from the operator's own view,
        // so no usage is lost and nothing comes from what the tenant may rewrite. In a job with
        // terms records, a pod without is not the operator's (it records them before creating any
        // pod) and stays unmetered.
        terms = rebuilt(pod, ref.get(), job);
        verdict = terms.isPresent() ? PodOwnership.Verdict.OWNED : verdict;
      }
      if (verdict != PodOwnership.Verdict.OWNED) {
        refused(pod, podUid, verdict, now);
        return null;
      }
    }
    return track(pod, podUid, ref.get(), job, start, terms);
  }

  /** Terms rebuilt for a placed pod that has none, recorded so they never change again. */
  private Optional<PlacedTerms> rebuilt(Pod pod, JobRef job, HasMetadata live) {
    String name = pod.getMetadata().getName();
    Optional<PlacedTerms> rebuilt = termsAtAdoption.apply(pod, live);
    if (rebuilt.isEmpty()) {
      return rebuilt;
    }
    store.putAdoptedTerms(job, name, rebuilt.get());
    // what the store holds: another writer may have recorded terms for this pod first
    Optional<PlacedTerms> kept = store.terms(job.uid(), name);
    kept.ifPresent(
        t ->
            LOG.infof(
                "Pod(%s/%s) was placed without a terms record (by an earlier operator): billed"
                    + " from its start at terms rebuilt from the operator's view: provider %s,"
                    + " %s wei per GPU-hour, %d milli-GPUs",
                pod.getMetadata().getNamespace(),
                name,
                t.provider(),
                t.terms().priceWeiPerGpuHour(),
                t.terms().milliGpus()));
    return kept;
  }

  private void refused(Pod pod, String podUid, PodOwnership.Verdict verdict, Instant now) {
    if (verdict == PodOwnership.Verdict.NOT_PLACED) {
      // Asked again at every look, never ignored for good: the job's status may trail the pod's
      // creation, and when a leader died between creating a gang and writing its status the next
      // leader lists the running pods only once it adopts them, minutes later under load.
      // Ignoring them then lost their usage (ChaosE2E). Not metered until listed.
      if (!young(pod, now) && notPlacedReported.add(podUid)) {
        onIgnored.accept(verdict);
        LOG.warnf(
            "Pod(%s/%s) carries gpupool labels but its job's status does not list it: not"
                + " metered unless it is listed",
            pod.getMetadata().getNamespace(), pod.getMetadata().getName());
      }
      return;
    }
    ignored.add(podUid);
    onIgnored.accept(verdict);
    LOG.warnf(
        "Pod(%s/%s) carries gpupool labels but is not metered: %s",
        pod.getMetadata().getNamespace(), pod.getMetadata().getName(), verdict.reason());
  }

  private static boolean young(Pod pod, Instant now) {
    Instant created = PodUsage.created(pod);
    return created == null || now.isBefore(created.plus(PLACEMENT_GRACE));
  }

  private TrackedPod track(
      Pod pod,
      String podUid,
      JobRef job,
      HasMetadata live,
      Instant start,
      Optional<PlacedTerms> placed) {
    // The provider paid and the terms are the operator's record; a recorded pod keeps the pair and
    // terms of its stored record (UsageMeter.meterJob), and only one recorded by an operator that
    // kept no terms falls back to its label.
    String providerName =
        placed
            .map(PlacedTerms::provider)
            .orElse(pod.getMetadata().getLabels().getOrDefault(GpupoolApi.PROVIDER_LABEL, ""));
    PlacementTerms terms =
        placed.map(PlacedTerms::terms).orElse(new PlacementTerms(BigInteger.ZERO, 0));
    Optional<GpuProvider> provider =
        providerName.isEmpty() ? Optional.empty() : providers.provider(providerName);
    if (provider.isEmpty() && !providers.synced()) {
      return null;
    }
    String payout =
        provider
            .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress)
            .flatMap(MeteredJobs::address)
            .orElse(UsageMeter.NO_ADDRESS);
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    PairId pair = new PairId(job.uid(), jobs.payer(job, live), payout);
    return new TrackedPod(
        podUid,
        job,
        pair,
        providerName,
        nodeName,
        start,
        null,
        terms.milliGpus(),
        terms.priceWeiPerGpuHour(),
        false);
  }
}
