package io.gpupool.operator.inventory;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.operator.podtemplate.PodTemplateNodes;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.watch.SharedWatch;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The pool as the cluster describes it: every GPU node read through {@link NodeReader}, kept up to
 * date by the Node watch ({@link ClusterWatches#nodes()}). Nodes that cannot be read are left out
 * with a logged reason. The operator's one Node watch: the GpuProvider controller reads its
 * providers' nodes from here too.
 */
@ApplicationScoped
public class NodeInventory {
  private static final Logger LOG = Logger.getLogger(NodeInventory.class);

  /** How long start-up waits for the first list of Nodes before it fails. */
  private static final Duration FIRST_LIST = Duration.ofSeconds(60);

  private final Map<String, NodeReading> readings = new ConcurrentHashMap<>();

  /** Labels and taints by node name: what a job's pod template may narrow the placement by. */
  private final Map<String, SchedulingFacts> facts = new ConcurrentHashMap<>();

  /** A node's labels and taints as its pods' nodeSelector, affinity and tolerations see them. */
  private record SchedulingFacts(Map<String, String> labels, List<Taint> taints) {}

  /**
   * Counts every change to a node's reading, labels or taints: what placement's kept pool view is
   * built from. Bumped after the change is stored, so a view built from an older count is rebuilt.
   */
  private final AtomicLong version = new AtomicLong();

  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> providerListeners = new CopyOnWriteArrayList<>();
  private final SharedWatch<Node> watch;

  public NodeInventory(ClusterWatches watches) {
    this.watch = watches.nodes();
  }

  void start(@Observes StartupEvent ignored) {
    watch.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Node node) {
            update(node);
          }

          @Override
          public void onUpdate(Node oldNode, Node node) {
            update(node);
          }

          @Override
          public void onDelete(Node node, boolean finalStateUnknown) {
            remove(node.getMetadata().getName());
          }
        });
    watch.startAndWait(FIRST_LIST);
  }

  /** Reads {@code node} into the pool; public so tests and replays can feed nodes directly. */
  public void update(Node node) {
    NodeReading reading = NodeReader.read(node);
    SchedulingFacts now =
        new SchedulingFacts(
            node.getMetadata().getLabels() == null
                ? Map.of()
                : Map.copyOf(node.getMetadata().getLabels()),
            node.getSpec() == null || node.getSpec().getTaints() == null
                ? List.of()
                : List.copyOf(node.getSpec().getTaints()));
    SchedulingFacts before = facts.put(reading.nodeName(), now);
    NodeReading previous = readings.put(reading.nodeName(), reading);
    if (!Objects.equals(previous, reading) || !Objects.equals(before, now)) {
      version.incrementAndGet();
    }
    if (reading instanceof NodeReading.Skipped skipped
        && skipped.gpuNode()
        && !(previous instanceof NodeReading.Skipped p
            && Objects.equals(p.reason(), skipped.reason()))) {
      LOG.warnf("Node(%s) left out of the GPU pool: %s", skipped.nodeName(), skipped.reason());
    }
    if (!Objects.equals(previous, reading)) {
      notifyListeners(reading.nodeName());
    }
    String provider = provider(facts.get(reading.nodeName()));
    String providerBefore = provider(before);
    if (!Objects.equals(previous, reading) || !Objects.equals(provider, providerBefore)) {
      notifyProviders(provider);
      if (!Objects.equals(provider, providerBefore)) {
        notifyProviders(providerBefore);
      }
    }
  }

  /** Forgets a node that left the cluster. */
  public void remove(String nodeName) {
    SchedulingFacts before = facts.remove(nodeName);
    NodeReading gone = readings.remove(nodeName);
    if (before != null || gone != null) {
      version.incrementAndGet();
    }
    if (gone != null) {
      LOG.infof("Node(%s) left the pool", nodeName);
      notifyListeners(nodeName);
    }
    notifyProviders(provider(before));
  }

  private static String provider(SchedulingFacts f) {
    return f == null ? null : f.labels().get(GpupoolApi.PROVIDER_LABEL);
  }

  /**
   * The reading of every node labelled as {@code provider}'s, GPU node or not, accepted or left
   * out: what the GpuProvider's status counts.
   */
  public List<NodeReading> readingsOf(String provider) {
    List<NodeReading> out = new ArrayList<>();
    facts.forEach(
        (name, f) -> {
          NodeReading r = readings.get(name);
          if (r != null && provider.equals(provider(f))) {
            out.add(r);
          }
        });
    return out;
  }

  /**
   * Tells {@code listener} the name of the GpuProvider whose nodes changed: one joined, left,
   * changed state or moved to another provider (then both are told).
   */
  public void onProviderNodesChange(Consumer<String> listener) {
    providerListeners.add(listener);
  }

  private void notifyProviders(String provider) {
    if (provider == null) {
      return;
    }
    for (var listener : providerListeners) {
      try {
        listener.accept(provider);
      } catch (RuntimeException e) {
        LOG.error("provider nodes listener failed", e);
      }
    }
  }

  /** Every readable GPU node, ready or not. */
  public List<GpuNode> nodes() {
    return readings.values().stream().flatMap(r -> r.accepted().stream()).toList();
  }

  /**
   * The GPU nodes a job's pod template lets its pods run on (its nodeSelector, required node
   * affinity and tolerations); every node when the job has no template.
   */
  public List<GpuNode> nodesFor(PodTemplate template) {
    if (template == null) {
      return nodes();
    }
    return nodes().stream()
        .filter(
            n -> {
              SchedulingFacts f = facts.get(n.name());
              return f != null
                  && PodTemplateNodes.admits(template, n.name(), f.labels(), f.taints());
            })
        .toList();
  }

  /** The labels of the node {@code name} as last read (empty when unknown). */
  public Map<String, String> labels(String name) {
    SchedulingFacts f = facts.get(name);
    return f == null ? Map.of() : f.labels();
  }

  /** GPU nodes left out, with the reason for each. */
  public Map<String, String> skippedGpuNodes() {
    Map<String, String> skipped = new TreeMap<>();
    readings
        .values()
        .forEach(
            r -> {
              if (r instanceof NodeReading.Skipped s && s.gpuNode()) {
                skipped.put(s.nodeName(), s.reason());
              }
            });
    return skipped;
  }

  /** Moves whenever a node joins, leaves, or changes its reading, labels or taints. */
  public long version() {
    return version.get();
  }

  /** True once the watch has listed the cluster's nodes. */
  public boolean synced() {
    return watch.synced();
  }

  /** Tells {@code listener} the name of every node that joins, leaves or changes state. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  /** The node's reading, if it is a readable GPU node. */
  public Optional<GpuNode> node(String name) {
    NodeReading r = readings.get(name);
    return r == null ? Optional.empty() : r.accepted();
  }

  private void notifyListeners(String nodeName) {
    for (var listener : listeners) {
      try {
        listener.accept(nodeName);
      } catch (RuntimeException e) {
        LOG.error("pool change listener failed", e);
      }
    }
  }
}
