package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.watch.SharedWatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * {@link BillingStore} on ConfigMaps: one per job UID ({@code gpupool-usage-<uid>}) in the
 * operator's namespace, not owned by the job, so usage outlives the job until it is settled. Data:
 * one JSON entry per (payer, provider) pair ({@code pair.<payer>.<provider>}) and one per metered
 * pod ({@code pod.<uid>}). Writes are optimistic (resourceVersion) with retry; reads come from the
 * operator's ConfigMap watch, merged with this process's own latest writes (newest resourceVersion
 * wins), so a read right after a write sees it before the watch delivers it. The settlement outbox
 * (signed transactions not yet confirmed) lives in ConfigMaps {@code gpupool-settlement-nonce-<n>},
 * read from the API server itself. A proven cheat's forfeit mark ({@code forfeit.<provider>}) lives
 * beside the pair figures it concerns.
 */
public final class ConfigMapBillingStore implements BillingStore, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ConfigMapBillingStore.class);

  /** Label selecting usage ConfigMaps. */
  public static final String USAGE_LABEL = "gpupool.io/billing";

  public static final String USAGE_VALUE = "usage";

  /** Label with the job UID a usage ConfigMap belongs to. */
  public static final String JOB_UID_LABEL = "gpupool.io/job-uid";

  /** Annotation {@code Kind/namespace/name} of the job. */
  public static final String JOB_ANNOTATION = "gpupool.io/job";

  private static final String NAME_PREFIX = "gpupool-usage-";

  /** Label value of the settlement outbox's ConfigMaps (one per in-flight nonce). */
  public static final String OUTBOX_VALUE = "outbox";

  private static final int MAX_ATTEMPTS = 20;

  /** How long start-up waits for the first list of usage ConfigMaps before it fails. */
  private static final Duration FIRST_LIST = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final String namespace;
  private final Map<String, ConfigMap> cache = new ConcurrentHashMap<>();

  /**
   * One lock per usage ConfigMap: a write waits only for writes of the same job's record. A lock
   * over the whole store made a placement (terms recorded on the reconcile thread) wait behind
   * metering writing other jobs' records, reconcile p99 157 ms -> 1.8 s (docs/benchmarks.md).
   * Writes stay optimistic (resourceVersion), so a lock dropped with its record costs a retry at
   * worst, never a lost write.
   */
  private final Map<String, Object> recordLocks = new ConcurrentHashMap<>();

  private final SharedWatch<ConfigMap> usage;
  private final boolean ownsWatch;
  private final ConfigMapOutbox outbox;

  /**
   * The operator's store: its usage ConfigMaps read from the operator's one ConfigMap watch ({@link
   * ClusterWatches#configMaps}).
   */
  public ConfigMapBillingStore(KubernetesClient client, String namespace, ClusterWatches watches) {
    this(client, namespace, watches.configMaps(namespace, USAGE_LABEL, USAGE_VALUE), false);
  }

  /**
   * A store with a watch of its own, as another operator process (a restarted one, a second
   * replica) opens it: for tests and tools. Closing it stops that watch.
   */
  public ConfigMapBillingStore(KubernetesClient client, String namespace) {
    this(
        client,
        namespace,
        new ClusterWatches(client).configMaps(namespace, USAGE_LABEL, USAGE_VALUE),
        true);
  }

  private ConfigMapBillingStore(
      KubernetesClient client, String namespace, SharedWatch<ConfigMap> usage, boolean ownsWatch) {
    this.client = client;
    this.namespace = namespace;
    this.usage = usage;
    this.ownsWatch = ownsWatch;
    this.outbox = new ConfigMapOutbox(client, namespace);
  }

  /** Listens to the usage ConfigMaps and waits until they have been listed. */
  public void start() {
    usage.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(ConfigMap cm) {
            remember(cm);
          }

          @Override
          public void onUpdate(ConfigMap old, ConfigMap cm) {
            remember(cm);
          }

          @Override
          public void onDelete(ConfigMap cm, boolean unknown) {
            cache.computeIfPresent(
                cm.getMetadata().getName(), (n, c) -> strictlyNewer(c, cm) ? c : null);
          }
        });
    usage.startAndWait(FIRST_LIST);
    // The listener hears of them on its own thread, maybe later: readers must find them now.
    usage.list().forEach(this::remember);
  }

  @Override
  public void close() {
    if (ownsWatch) {
      usage.stop();
    }
  }

  public String namespace() {
    return namespace;
  }

  /** Name of a job's usage ConfigMap. */
  public static String configMapName(String jobUid) {
    return NAME_PREFIX + jobUid;
  }

  @Override
  public Optional<PairLedger> get(PairId pair) {
    ConfigMap cm = cache.get(configMapName(pair.jobId()));
    if (cm == null || cm.getData() == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(cm.getData().get(UsageCodec.pairKey(pair)))
        .map(UsageCodec::decodePair);
  }

  @Override
  public List<PairLedger> all() {
    List<PairLedger> out = new ArrayList<>();
    for (ConfigMap cm : cache.values()) {
      out.addAll(pairs(cm));
    }
    return out;
  }

  /** The pairs of one job. */
  public List<PairLedger> pairs(String jobUid) {
    ConfigMap cm = cache.get(configMapName(jobUid));
    return cm == null ? List.of() : pairs(cm);
  }

  @Override
  public PairLedger update(PairId pair, UnaryOperator<PairLedger> change) {
    String key = UsageCodec.pairKey(pair);
    return modify(
        pair.jobId(),
        null,
        data -> {
          String json = data.get(key);
          PairLedger current = json == null ? PairLedger.empty(pair) : UsageCodec.decodePair(json);
          PairLedger next = change.apply(current);
          data.put(key, UsageCodec.encode(next));
          return next;
        });
  }

  /**
   * The settlement outbox: its own ConfigMaps, read from the API server ({@link ConfigMapOutbox}).
   */
  @Override
  public List<OutboxEntry> outbox() {
    return outbox.entries();
  }

  @Override
  public void putOutbox(OutboxEntry entry) {
    outbox.put(entry);
  }

  @Override
  public void removeOutbox(long nonce) {
    outbox.remove(nonce);
  }

  /**
   * Marks the usage of {@code job} on the provider paid at {@code providerAddress} forfeited: the
   * settlement loop sends none of it from now on ({@link SettleableStore}). Stored in the job's
   * usage ConfigMap, beside the figures it concerns, so a restarted operator keeps skipping it; a
   * mark already there is kept (the first verdict dates it).
   */
  public void putForfeit(JobRef job, String providerAddress, String record) {
    modify(
        job.uid(),
        job,
        data -> {
          data.putIfAbsent(UsageCodec.forfeitKey(providerAddress), record);
          return null;
        });
  }

  /** The forfeit mark of the pair's job on the pair's provider, if one was stored. */
  public Optional<String> forfeit(PairId pair) {
    ConfigMap cm = cache.get(configMapName(pair.jobId()));
    return cm == null || cm.getData() == null
        ? Optional.empty()
        : Optional.ofNullable(cm.getData().get(UsageCodec.forfeitKey(pair.provider())));
  }

  /** The pod records of a job, by pod UID. */
  public Map<String, PodRecord> pods(String jobUid) {
    ConfigMap cm = cache.get(configMapName(jobUid));
    Map<String, PodRecord> out = new HashMap<>();
    if (cm != null && cm.getData() != null) {
      cm.getData()
          .forEach(
              (k, v) -> {
                if (k.startsWith("pod.")) {
                  PodRecord r = UsageCodec.decodePod(v);
                  out.put(r.lifetime().podUid(), r);
                }
              });
    }
    return out;
  }

  /** Store (replace) pod records of a job in one write. */
  public void putPods(JobRef job, Collection<PodRecord> records) {
    if (records.isEmpty()) {
      return;
    }
    modify(
        job.uid(),
        job,
        data -> {
          for (PodRecord r : records) {
            data.put(UsageCodec.podKey(r.lifetime().podUid()), UsageCodec.encode(r));
          }
          return null;
        });
  }

  /**
   * True when the operator recorded terms at placement for any pod of the job (by UID); terms it
   * rebuilt on adoption ({@link #putAdoptedTerms}) do not count.
   */
  public boolean placedTermsRecorded(String jobUid) {
    ConfigMap cm = cache.get(configMapName(jobUid));
    return cm != null && cm.getData() != null && UsageCodec.holdsPlacedTerms(cm.getData());
  }

  /**
   * Records {@code terms} rebuilt for pod {@code podName} of {@code job} when the operator adopted
   * it, unless terms are recorded for it already (those are kept).
   */
  public void putAdoptedTerms(JobRef job, String podName, PlacedTerms terms) {
    modify(
        job.uid(),
        job,
        data -> {
          if (data.putIfAbsent(UsageCodec.termsKey(podName), UsageCodec.encode(terms)) == null) {
            data.put(UsageCodec.adoptedKey(podName), "");
          }
          return null;
        });
  }

  /**
   * The terms the operator fixed for pod {@code podName} of a job when it placed it, if it recorded
   * any (an unreadable record counts as none: the pod is then not metered).
   */
  public Optional<PlacedTerms> terms(String jobUid, String podName) {
    ConfigMap cm = cache.get(configMapName(jobUid));
    String v =
        cm == null || cm.getData() == null ? null : cm.getData().get(UsageCodec.termsKey(podName));
    if (v == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(UsageCodec.decodeTerms(v));
    } catch (RuntimeException e) {
      LOG.warnf("unreadable billing terms of pod %s in usage record of job %s", podName, jobUid);
      return Optional.empty();
    }
  }

  /**
   * Records, in one write, the terms fixed for pods about to be created for {@code job}, by pod
   * name. A pod already recorded on the same node keeps its first terms: a creation retried after a
   * lost status write names the same pod, which was placed (and priced) the first time.
   */
  public void putTerms(JobRef job, Map<String, PlacedTerms> byPod) {
    if (byPod.isEmpty()) {
      return;
    }
    modify(
        job.uid(),
        job,
        data -> {
          byPod.forEach(
              (pod, t) -> {
                String key = UsageCodec.termsKey(pod);
                String prior = data.get(key);
                if (prior == null || !sameNode(prior, t)) {
                  data.put(key, UsageCodec.encode(t));
                }
              });
          return null;
        });
  }

  private static boolean sameNode(String prior, PlacedTerms t) {
    try {
      return UsageCodec.decodeTerms(prior).node().equals(t.node());
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** UIDs of the jobs that have a usage ConfigMap. */
  public Set<String> jobUids() {
    Set<String> out = new TreeSet<>();
    for (ConfigMap cm : cache.values()) {
      String uid = cm.getMetadata().getLabels().get(JOB_UID_LABEL);
      if (uid != null) {
        out.add(uid);
      }
    }
    return out;
  }

  /** The job a usage ConfigMap was written for, if it was recorded. */
  public Optional<JobRef> job(String jobUid) {
    ConfigMap cm = cache.get(configMapName(jobUid));
    if (cm == null || cm.getMetadata().getAnnotations() == null) {
      return Optional.empty();
    }
    String ref = cm.getMetadata().getAnnotations().get(JOB_ANNOTATION);
    if (ref == null) {
      return Optional.empty();
    }
    String[] parts = ref.split("/", 3);
    return parts.length == 3
        ? Optional.of(new JobRef(parts[0], parts[1], parts[2], jobUid))
        : Optional.empty();
  }

  /** Delete a job's usage ConfigMap (the caller has checked that nothing is left to settle). */
  public void delete(String jobUid) {
    String name = configMapName(jobUid);
    synchronized (recordLock(name)) {
      client.configMaps().inNamespace(namespace).withName(name).delete();
      cache.remove(name);
      recordLocks.remove(name);
    }
  }

  private Object recordLock(String configMapName) {
    return recordLocks.computeIfAbsent(configMapName, n -> new Object());
  }

  private <T> T modify(String jobUid, JobRef job, Function<Map<String, String>, T> change) {
    String name = configMapName(jobUid);
    synchronized (recordLock(name)) {
      return modifyLocked(name, jobUid, job, change);
    }
  }

  private <T> T modifyLocked(
      String name, String jobUid, JobRef job, Function<Map<String, String>, T> change) {
    ConfigMap current = cache.get(name);
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      Map<String, String> data =
          new TreeMap<>(
              current == null || current.getData() == null ? Map.of() : current.getData());
      T result = change.apply(data);
      try {
        ConfigMap written;
        if (current == null) {
          written =
              client
                  .configMaps()
                  .inNamespace(namespace)
                  .resource(fresh(name, jobUid, job, data))
                  .create();
        } else {
          ConfigMapBuilder b = new ConfigMapBuilder(current).withData(data);
          if (job != null
              && (current.getMetadata().getAnnotations() == null
                  || !current.getMetadata().getAnnotations().containsKey(JOB_ANNOTATION))) {
            b.editMetadata().addToAnnotations(JOB_ANNOTATION, annotation(job)).endMetadata();
          }
          written = client.configMaps().inNamespace(namespace).resource(b.build()).update();
        }
        remember(written);
        return result;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
        LOG.debugf(
            "usage ConfigMap %s/%s changed under us (%d), retrying", namespace, name, e.getCode());
        current = client.configMaps().inNamespace(namespace).withName(name).get();
        if (current != null) {
          remember(current);
        }
      }
    }
    throw new IllegalStateException(
        "usage ConfigMap " + namespace + "/" + name + ": too many conflicting writes");
  }

  private ConfigMap fresh(String name, String jobUid, JobRef job, Map<String, String> data) {
    ConfigMapBuilder b =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .addToLabels(USAGE_LABEL, USAGE_VALUE)
            .addToLabels(JOB_UID_LABEL, jobUid)
            .addToLabels("app.kubernetes.io/managed-by", "gpupool-operator")
            .endMetadata()
            .withData(data);
    if (job != null) {
      b.editMetadata().addToAnnotations(JOB_ANNOTATION, annotation(job)).endMetadata();
    }
    return b.build();
  }

  private static String annotation(JobRef job) {
    return job.kind() + "/" + job.namespace() + "/" + job.name();
  }

  private void remember(ConfigMap cm) {
    cache.merge(
        cm.getMetadata().getName(), cm, (old, incoming) -> newer(incoming, old) ? incoming : old);
  }

  /**
   * True when {@code a} is at least as recent as {@code b} (resourceVersions compared as numbers).
   */
  private static boolean newer(ConfigMap a, ConfigMap b) {
    try {
      return Long.parseLong(a.getMetadata().getResourceVersion())
          >= Long.parseLong(b.getMetadata().getResourceVersion());
    } catch (NumberFormatException | NullPointerException e) {
      return true;
    }
  }

  private static boolean strictlyNewer(ConfigMap a, ConfigMap b) {
    return !newer(b, a);
  }

  private static List<PairLedger> pairs(ConfigMap cm) {
    List<PairLedger> out = new ArrayList<>();
    if (cm.getData() != null) {
      cm.getData()
          .forEach(
              (k, v) -> {
                if (k.startsWith("pair.")) {
                  out.add(UsageCodec.decodePair(v));
                }
              });
    }
    return out;
  }
}
