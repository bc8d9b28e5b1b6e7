package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import io.gpupool.operator.billing.PlacedTerms;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The replica part of an InferenceJob's status, built from its groups as they are. What a shard
 * holds and who provides it (provider, GPUs, share, GPU model) comes from the operator's own record
 * of the pod's placement ({@link PlacedTerms}) and its view of the node, not from the pod's labels
 * or annotations, which a tenant may rewrite; those are read only for a pod the operator has no
 * terms for. Pure.
 */
final class ReplicaReport {
  private ReplicaReport() {}

  /**
   * What the operator knows of the pods it placed.
   *
   * @param terms the terms the operator fixed for a pod when it placed it
   * @param product the GPU product of a node as the operator's inventory reads it
   */
  record Placements(
      Function<Pod, Optional<PlacedTerms>> terms, Function<String, Optional<String>> product) {}

  /**
   * The groups a step's report lists: all it sees, but while the binder creates groups of the job
   * (placed in this step) only those the step began with. The watch delivers each pod of a group
   * being created as it is created, so a report listing what it saw of such a group showed it
   * smaller than placed (InferenceJobIT: 4 of a sharded replica's 8 GPUs); the binder wakes the job
   * once the group is whole, and that step lists it.
   */
  static List<ReplicaGroup> listed(List<ReplicaGroup> now, Set<String> atStart, boolean creating) {
    return creating ? now.stream().filter(g -> atStart.contains(g.group())).toList() : now;
  }

  /** Sets replicas, readyReplicas and totalGpus from {@code groups}; returns the ready count. */
  static int fill(InferenceJobStatus status, List<ReplicaGroup> groups, Placements placements) {
    List<ReplicaStatus> replicas = new ArrayList<>();
    int ready = 0;
    int wholeGpus = 0;
    int shareMilli = 0;
    for (ReplicaGroup g : groups) {
      for (Pod p : g.pods()) {
        Held held = held(p, placements);
        if (held.milli() >= 1000) {
          wholeGpus += held.gpus();
        } else {
          shareMilli += held.milli();
        }
      }
      if (g.draining()) {
        continue;
      }
      ReplicaStatus r = new ReplicaStatus();
      r.index = g.replica();
      r.ready = g.ready();
      r.pipelineParallelSize = g.size();
      Pod leader = g.leader();
      r.tensorParallelSize = leader == null ? null : held(leader, placements).gpus();
      r.shards = new ArrayList<>();
      for (Pod p : g.pods()) {
        r.shards.add(shard(p, placements));
      }
      r.cache = replicaCache(r.shards);
      if (r.ready) {
        ready++;
      }
      replicas.add(r);
    }
    // An empty list, not null: a merge patch leaves out nulls, which would keep the old list.
    status.replicas = replicas;
    status.readyReplicas = ready;
    status.totalGpus = wholeGpus + (shareMilli + 999) / 1000;
    return ready;
  }

  /** GPUs a pod holds: whole GPUs, or a share of one in thousandths ({@code milli} below 1000). */
  private record Held(int gpus, int milli) {}

  private static Held held(Pod p, Placements placements) {
    Optional<PlacedTerms> terms = placements.terms().apply(p);
    if (terms.isPresent()) {
      long milli = terms.get().terms().milliGpus();
      return milli < 1000
          ? new Held(1, (int) milli)
          : new Held((int) Math.min(Integer.MAX_VALUE, milli / 1000), 1000);
    }
    return new Held(
        intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1),
        intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000));
  }

  private static ShardPlacement shard(Pod p, Placements placements) {
    ShardPlacement sp = new ShardPlacement();
    sp.index = ReplicaGroup.intLabel(p, InferenceGroup.SHARD_LABEL, 0);
    sp.pod = p.getMetadata().getName();
    sp.node = p.getSpec().getNodeName();
    Optional<PlacedTerms> terms = placements.terms().apply(p);
    var a = p.getMetadata().getAnnotations();
    sp.provider =
        terms
            .map(PlacedTerms::provider)
            .orElse(p.getMetadata().getLabels().get(GpupoolApi.PROVIDER_LABEL));
    sp.gpuModel =
        terms.isPresent()
            ? placements.product().apply(terms.get().node()).orElse(null)
            : a == null ? null : a.get(InferenceGroup.GPU_PRODUCT_ANNOTATION);
    Held held = held(p, placements);
    sp.gpus = held.gpus();
    sp.gpuMilli = held.milli() < 1000 ? held.milli() : null;
    String layers = a == null ? null : a.get(InferenceGroup.LAYERS_ANNOTATION);
    if (layers != null && layers.matches("\\d+-\\d+")) {
      String[] p2 = layers.split("-");
      sp.firstLayer = Integer.parseInt(p2[0]);
      sp.lastLayer = Integer.parseInt(p2[1]);
    }
    ModelCache.outcome(p)
        .ifPresent(
            o -> {
              sp.cache = o.result();
              sp.weightsFetchSeconds = o.seconds();
            });
    return sp;
  }

  /** Pulling while a shard pulls, Miss when one pulled, Hit when all found them; else none. */
  private static String replicaCache(List<ShardPlacement> shards) {
    boolean any = false;
    boolean allHit = true;
    for (ShardPlacement sp : shards) {
      if (ModelCache.PULLING.equals(sp.cache)) {
        return ModelCache.PULLING;
      }
      any |= sp.cache != null;
      allHit &= ModelCache.HIT.equals(sp.cache);
    }
    if (!any) {
      return null;
    }
    return allHit
        ? ModelCache.HIT
        : shards.stream().anyMatch(sp -> ModelCache.MISS.equals(sp.cache))
            ? ModelCache.MISS
            : ModelCache.FETCHED;
  }

  static long longAnnotation(Pod p, String key, long otherwise) {
    var a = p.getMetadata().getAnnotations();
    try {
      return a == null || a.get(key) == null ? otherwise : Long.parseLong(a.get(key));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  static int intAnnotation(Pod p, String key, int otherwise) {
    var a = p.getMetadata().getAnnotations();
    try {
      return a == null || a.get(key) == null ? otherwise : Integer.parseInt(a.get(key));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
