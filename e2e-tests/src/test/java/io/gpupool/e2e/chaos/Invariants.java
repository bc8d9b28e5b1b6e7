package io.gpupool.e2e.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.JobStatus;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.e2e.chaos.Violation.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The invariants the chaos harness holds the operator to, checked on a {@link ClusterView} (and,
 * for money, the chain's balance per payout address). {@link #continuous} holds at every moment,
 * faults or not; {@link #atEnd} holds once every job has ended and settlement is quiet.
 */
public final class Invariants {
  static final String RANK_LABEL = "gpupool.io/rank";
  static final String GPU_PREFIX = "nvidia.com/";
  static final String ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Invariants() {}

  /**
   * What must hold at any moment. {@code chainBalances} must be read <em>before</em> the view: an
   * amount is metered before it is settled, so a balance read later could include usage the view's
   * records do not show yet.
   */
  public static List<Violation> continuous(
      ClusterView view, Map<String, BigInteger> chainBalances) {
    List<Violation> out = new ArrayList<>();
    Map<String, BigInteger> balances = lowerCase(chainBalances);
    duplicateRanks(view, out);
    overCommits(view, out);
    orphans(view, out);
    Map<String, BigInteger[]> ledger = ledgerByProvider(view);
    balances.forEach(
        (address, onChain) -> {
          BigInteger metered = figures(ledger, address)[0];
          if (onChain.compareTo(metered) > 0) {
            out.add(
                new Violation(
                    Kind.PAID_TWICE,
                    address + " holds " + onChain + " wei on chain, metered only " + metered));
          }
        });
    return out;
  }

  /** What must hold once every job has ended and no settlement is pending. */
  public static List<Violation> atEnd(ClusterView view, Map<String, BigInteger> chainBalances) {
    List<Violation> out = new ArrayList<>(continuous(view, chainBalances));
    Map<String, BigInteger> balances = lowerCase(chainBalances);
    finalPhases(view, out);
    inferencePhases(view, out);
    livePodsOfEndedJobs(view, out);
    lostRecords(view, out);
    Map<String, BigInteger[]> ledger = ledgerByProvider(view);
    Set<String> providers = new TreeSet<>(ledger.keySet());
    balances.forEach(
        (address, wei) -> {
          if (wei.signum() > 0) {
            providers.add(address);
          }
        });
    for (String provider : providers) {
      BigInteger[] f = figures(ledger, provider);
      BigInteger onChain = balances.getOrDefault(provider, BigInteger.ZERO);
      if (!onChain.equals(f[1]) || !f[1].equals(f[0])) {
        out.add(
            new Violation(
                Kind.LEDGER_MISMATCH,
                provider
                    + ": on chain "
                    + onChain
                    + ", settled "
                    + f[1]
                    + ", metered "
                    + f[0]
                    + " wei"));
      }
    }
    return out;
  }

  private static Map<String, BigInteger> lowerCase(Map<String, BigInteger> byAddress) {
    Map<String, BigInteger> out = new TreeMap<>();
    byAddress.forEach((a, wei) -> out.merge(a.toLowerCase(Locale.ROOT), wei, BigInteger::add));
    return out;
  }

  static boolean live(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return pod.getMetadata().getDeletionTimestamp() == null
        && !"Succeeded".equals(phase)
        && !"Failed".equals(phase);
  }

  private static String jobName(HasMetadata o) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return o.getMetadata().getNamespace()
        + "/"
        + (labels == null ? "?" : labels.get(GpupoolApi.JOB_NAME_LABEL));
  }

  private static void duplicateRanks(ClusterView view, List<Violation> out) {
    Map<String, List<String>> byRank = new TreeMap<>();
    for (Pod pod : view.pods()) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      if (!live(pod) || labels == null || !labels.containsKey(RANK_LABEL)) {
        continue;
      }
      byRank
          .computeIfAbsent(jobName(pod) + " rank " + labels.get(RANK_LABEL), k -> new ArrayList<>())
          .add(pod.getMetadata().getName());
    }
    byRank.forEach(
        (rank, pods) -> {
          if (pods.size() > 1) {
            out.add(new Violation(Kind.DUPLICATE_RANK, rank + ": " + pods));
          }
        });
  }

  private static void overCommits(ClusterView view, List<Violation> out) {
    Map<String, Map<String, Long>> asked = new HashMap<>();
    Map<String, List<String>> holders = new HashMap<>();
    for (Pod pod : view.pods()) {
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (node == null || !live(pod)) {
        continue;
      }
      for (Container c : pod.getSpec().getContainers()) {
        if (c.getResources() == null || c.getResources().getLimits() == null) {
          continue;
        }
        c.getResources()
            .getLimits()
            .forEach(
                (resource, q) -> {
                  if (resource.startsWith(GPU_PREFIX) && count(q) > 0) {
                    asked
                        .computeIfAbsent(node, n -> new TreeMap<>())
                        .merge(resource, count(q), Long::sum);
                    holders
                        .computeIfAbsent(node, n -> new ArrayList<>())
                        .add(pod.getMetadata().getName() + "=" + count(q));
                  }
                });
      }
    }
    for (Node node : view.nodes()) {
      Map<String, Long> wanted = asked.get(node.getMetadata().getName());
      if (wanted == null) {
        continue;
      }
      Map<String, Quantity> allocatable =
          node.getStatus() == null || node.getStatus().getAllocatable() == null
              ? Map.of()
              : node.getStatus().getAllocatable();
      wanted.forEach(
          (resource, n) -> {
            long has = allocatable.containsKey(resource) ? count(allocatable.get(resource)) : 0;
            if (n > has) {
              out.add(
                  new Violation(
                      Kind.GPU_OVERCOMMIT,
                      node.getMetadata().getName()
                          + ": live pods ask "
                          + n
                          + " "
                          + resource
                          + ", it has "
                          + has
                          + " "
                          + holders.get(node.getMetadata().getName())));
            }
          });
    }
  }

  private static long count(Quantity q) {
    return q.getNumericalAmount().longValueExact();
  }

  private static void orphans(ClusterView view, List<Violation> out) {
    Set<String> jobUids = new HashSet<>();
    view.jobs().forEach(j -> jobUids.add(j.getMetadata().getUid()));
    view.inferenceJobs().forEach(j -> jobUids.add(j.getMetadata().getUid()));
    List<HasMetadata> owned = new ArrayList<>(view.pods());
    owned.addAll(view.services());
    for (HasMetadata o : owned) {
      OwnerReference job = jobOwner(o);
      if (job != null && !jobUids.contains(job.getUid())) {
        out.add(
            new Violation(
                Kind.ORPHAN,
                o.getKind()
                    + " "
                    + o.getMetadata().getNamespace()
                    + "/"
                    + o.getMetadata().getName()
                    + ": its "
                    + job.getKind()
                    + " "
                    + job.getName()
                    + " ("
                    + job.getUid()
                    + ") is gone"));
      }
    }
  }

  /** The TrainingJob or InferenceJob that owns {@code o}, null when none does. */
  private static OwnerReference jobOwner(HasMetadata o) {
    List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
    if (refs == null) {
      return null;
    }
    return refs.stream()
        .filter(r -> "TrainingJob".equals(r.getKind()) || "InferenceJob".equals(r.getKind()))
        .findFirst()
        .orElse(null);
  }

  /** Whether an owner of kind {@code kind} owns {@code o}. */
  static boolean isOwnedBy(HasMetadata o, String kind) {
    OwnerReference owner = jobOwner(o);
    return owner != null && kind.equals(owner.getKind());
  }

  private static void livePodsOfEndedJobs(ClusterView view, List<Violation> out) {
    Map<String, String> ended = new HashMap<>(); // uid -> final phase
    for (TrainingJob j : view.jobs()) {
      if (ended(j)) {
        ended.put(j.getMetadata().getUid(), j.getStatus().phase.name());
      }
    }
    for (InferenceJob j : view.inferenceJobs()) {
      if (ended(j)) {
        ended.put(j.getMetadata().getUid(), j.getStatus().phase.name());
      }
    }
    for (Pod pod : view.pods()) {
      OwnerReference owner = jobOwner(pod);
      if (owner != null && ended.containsKey(owner.getUid()) && live(pod)) {
        out.add(
            new Violation(
                Kind.ORPHAN,
                "pod "
                    + pod.getMetadata().getNamespace()
                    + "/"
                    + pod.getMetadata().getName()
                    + " is still live after its job ended "
                    + ended.get(owner.getUid())));
      }
    }
  }

  /** Whether the job reached Succeeded or Failed. */
  public static boolean ended(TrainingJob j) {
    TrainingJobPhase phase = j.getStatus() == null ? null : j.getStatus().phase;
    return phase == TrainingJobPhase.Succeeded || phase == TrainingJobPhase.Failed;
  }

  /** Whether the InferenceJob was suspended (its replicas stopped) or Failed. */
  public static boolean ended(InferenceJob j) {
    InferenceJobPhase phase = j.getStatus() == null ? null : j.getStatus().phase;
    return phase == InferenceJobPhase.Suspended || phase == InferenceJobPhase.Failed;
  }

  /**
   * Every InferenceJob of a chaos run is suspended before its end: Suspended, or Failed with a
   * {@code Failed} condition giving its reason.
   */
  private static void inferencePhases(ClusterView view, List<Violation> out) {
    for (InferenceJob j : view.inferenceJobs()) {
      String name = j.getMetadata().getNamespace() + "/" + j.getMetadata().getName();
      InferenceJobPhase phase = j.getStatus() == null ? null : j.getStatus().phase;
      if (phase == InferenceJobPhase.Suspended) {
        continue;
      }
      boolean explained =
          phase == InferenceJobPhase.Failed
              && j.getStatus().conditions.stream()
                  .anyMatch(
                      c ->
                          "Failed".equals(c.getType())
                              && "True".equals(c.getStatus())
                              && c.getReason() != null
                              && !c.getReason().isBlank());
      if (!explained) {
        out.add(stillOpen(name, j.getStatus()));
      }
    }
  }

  /** A job of either kind that has not ended: its phase and what it says it waits for. */
  private static Violation stillOpen(String name, JobStatus<?> status) {
    return new Violation(
        Kind.NOT_FINAL,
        name
            + " is still "
            + (status == null ? null : status.phase)
            + whyNot(status == null ? null : status.conditions));
  }

  /**
   * What a job that did not end says about why: its conditions that are not True (type, reason and
   * the start of the message), so that a run that ends with jobs waiting names what they wait for.
   */
  static String whyNot(List<Condition> conditions) {
    if (conditions == null) {
      return " (no conditions)";
    }
    StringBuilder why = new StringBuilder();
    for (var c : conditions) {
      if ("True".equals(c.getStatus())) {
        continue;
      }
      String message = c.getMessage() == null ? "" : c.getMessage();
      why.append(why.length() == 0 ? " (" : "; ")
          .append(c.getType())
          .append('=')
          .append(c.getStatus())
          .append(' ')
          .append(c.getReason())
          .append(": ")
          .append(message.length() > 160 ? message.substring(0, 160) + "..." : message);
    }
    return why.length() == 0 ? "" : why.append(')').toString();
  }

  private static void finalPhases(ClusterView view, List<Violation> out) {
    for (TrainingJob j : view.jobs()) {
      String name = j.getMetadata().getNamespace() + "/" + j.getMetadata().getName();
      TrainingJobPhase phase = j.getStatus() == null ? null : j.getStatus().phase;
      if (phase == TrainingJobPhase.Succeeded) {
        continue;
      }
      if (phase != TrainingJobPhase.Failed) {
        out.add(stillOpen(name, j.getStatus()));
        continue;
      }
      var reason =
          j.getStatus().conditions.stream()
              .filter(c -> "Failed".equals(c.getType()) && "True".equals(c.getStatus()))
              .filter(c -> c.getReason() != null && !c.getReason().isBlank())
              .filter(c -> c.getMessage() != null && !c.getMessage().isBlank())
              .findFirst();
      if (reason.isEmpty()) {
        out.add(
            new Violation(
                Kind.NOT_FINAL, name + " Failed without a Failed condition giving a reason"));
        continue;
      }
      int restarts = j.getStatus().restarts == null ? 0 : j.getStatus().restarts;
      if (reason.get().getReason().equals("BackoffLimitExceeded")
          && restarts < j.getSpec().backoffLimitOrDefault()) {
        out.add(
            new Violation(
                Kind.NOT_FINAL,
                name
                    + " Failed (BackoffLimitExceeded) after "
                    + restarts
                    + " restarts, its backoffLimit is "
                    + j.getSpec().backoffLimitOrDefault()));
      }
    }
  }

  private static void lostRecords(ClusterView view, List<Violation> out) {
    Map<String, ConfigMap> byJobUid = new HashMap<>();
    for (ConfigMap cm : view.usageRecords()) {
      String name = cm.getMetadata().getName();
      if (name.startsWith("gpupool-usage-")) {
        byJobUid.put(name.substring("gpupool-usage-".length()), cm);
      }
    }
    for (Pod pod : view.pods()) {
      OwnerReference owner = jobOwner(pod);
      if (owner == null || !started(pod)) {
        continue;
      }
      ConfigMap record = byJobUid.get(owner.getUid());
      String key = "pod." + pod.getMetadata().getUid();
      if (record == null || record.getData() == null || !record.getData().containsKey(key)) {
        out.add(
            new Violation(
                Kind.RECORD_LOST,
                "pod "
                    + pod.getMetadata().getNamespace()
                    + "/"
                    + pod.getMetadata().getName()
                    + " ran, but "
                    + (record == null
                        ? "its job has no usage record"
                        : "its job's usage record has no " + key)));
      }
    }
  }

  static boolean started(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return false;
    }
    for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
      if (s.getState() == null) {
        continue;
      }
      if (s.getState().getRunning() != null || s.getState().getTerminated() != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a usage record is settled: every pair with a payer and a payout address has no
   * transaction in flight and settled what was metered.
   */
  public static boolean settled(ConfigMap record) {
    if (record.getData() == null) {
      return true;
    }
    for (var e : record.getData().entrySet()) {
      if (!e.getKey().startsWith("pair.")) {
        continue;
      }
      JsonNode pair = parse(e.getValue());
      if (pair.path("payer").asText().equalsIgnoreCase(ZERO_ADDRESS)
          || pair.path("provider").asText().equalsIgnoreCase(ZERO_ADDRESS)) {
        continue;
      }
      if (pair.hasNonNull("inFlightTx")
          || !pair.path("meteredWei").asText("0").equals(pair.path("settledWei").asText("0"))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Per provider payout address (lower case): {metered, settled} wei over every usage record's
   * pairs, usage without a payer or payout address (never settled) left out.
   */
  static Map<String, BigInteger[]> ledgerByProvider(ClusterView view) {
    Map<String, BigInteger[]> out = new TreeMap<>();
    for (ConfigMap cm : view.usageRecords()) {
      if (cm.getData() == null) {
        continue;
      }
      cm.getData()
          .forEach(
              (key, value) -> {
                if (!key.startsWith("pair.")) {
                  return;
                }
                JsonNode pair = parse(value);
                String payer = pair.path("payer").asText().toLowerCase(Locale.ROOT);
                String provider = pair.path("provider").asText().toLowerCase(Locale.ROOT);
                if (payer.equals(ZERO_ADDRESS) || provider.equals(ZERO_ADDRESS)) {
                  return;
                }
                BigInteger[] f =
                    out.computeIfAbsent(
                        provider, p -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
                f[0] = f[0].add(new BigInteger(pair.path("meteredWei").asText("0")));
                f[1] = f[1].add(new BigInteger(pair.path("settledWei").asText("0")));
              });
    }
    return out;
  }

  /** The wei a usage record metered for pairs with a payer and a payout address. */
  static BigInteger meteredWei(ConfigMap record) {
    BigInteger[] sum = {BigInteger.ZERO};
    ledgerByProvider(new ClusterView(List.of(), List.of(), List.of(), List.of(), List.of(record)))
        .values()
        .forEach(f -> sum[0] = sum[0].add(f[0]));
    return sum[0];
  }

  private static BigInteger[] figures(Map<String, BigInteger[]> ledger, String provider) {
    return ledger.getOrDefault(
        provider.toLowerCase(Locale.ROOT), new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException("usage record entry is not JSON: " + json, e);
    }
  }
}
