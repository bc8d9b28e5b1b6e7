package io.gpupool.operator.pool;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The scheduler's view of the pool, kept between placements. Building one walks every node several
 * times (prices, reliability, speed ratings, quarantines, stake gate), and every placement did so
 * under the allocation ledger's lock: at 5,000 nodes reconcile threads queued on that lock. A view
 * is now rebuilt only when what it is made of changed ({@link PoolSources.Stamp}), one per kind of
 * sharing and set of node constraints of a pod template, the most recently used few kept.
 */
final class KeptPoolViews {
  /** Distinct node constraints kept at once (each view holds every node). */
  static final int KEPT = 16;

  private final PoolSources sources;
  private PoolSources.Stamp builtFrom;
  private long builds;

  private final Map<Key, PoolView> views =
      new LinkedHashMap<>(KEPT, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, PoolView> eldest) {
          return size() > KEPT;
        }
      };

  /** What selects the nodes of a view: sharing, and a template's node constraints (null: none). */
  private record Key(boolean sharing, String constraints) {}

  KeptPoolViews(PoolSources sources) {
    this.sources = sources;
  }

  /** The view for {@code sharing} and {@code template}, as {@link PoolSources#build} makes it. */
  synchronized PoolView view(boolean sharing, PodTemplate template) {
    PoolSources.Stamp now = sources.stamp();
    if (builtFrom == null || !builtFrom.same(now)) {
      views.clear();
      builtFrom = now;
    }
    return views.computeIfAbsent(
        new Key(sharing, constraints(template)),
        k -> {
          builds++;
          return sources.build(sharing, template);
        });
  }

  /** Views built so far (a harness compares it with the placements made). */
  synchronized long builds() {
    return builds;
  }

  /**
   * The parts of a template that narrow its nodes ({@code PodTemplateNodes.admits}); a job without
   * a template is not the same as one with an empty template (that one's pods must tolerate
   * taints).
   */
  private static String constraints(PodTemplate template) {
    if (template == null) {
      return null;
    }
    return Serialization.asJson(
        Arrays.asList(template.nodeSelector, template.tolerations, template.affinity));
  }
}
