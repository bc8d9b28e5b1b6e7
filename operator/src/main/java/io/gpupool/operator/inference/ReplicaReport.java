package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import java.util.ArrayList;
import java.util.List;

/** The replica part of an InferenceJob's status, built from its groups as they are. Pure. */
final class ReplicaReport {
  private ReplicaReport() {}

  /** Sets replicas, readyReplicas and totalGpus from {@code groups}; returns the ready count. */
  static int fill(InferenceJobStatus status, List<ReplicaGroup> groups) {
    List<ReplicaStatus> replicas = new ArrayList<>();
    int ready = 0;
    int wholeGpus = 0;
    int shareMilli = 0;
    for (ReplicaGroup g : groups) {
      for (Pod p : g.pods()) {
        int gpus = intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1);
        int milli = intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000);
        if (milli >= 1000) {
          wholeGpus += gpus;
        } else {
          shareMilli += milli;
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
      r.tensorParallelSize =
          leader == null ? null : intAnnotation(leader, InferenceGroup.GPUS_ANNOTATION, 1);
      r.shards = new ArrayList<>();
      for (Pod p : g.pods()) {
        r.shards.add(shard(p));
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

  private static ShardPlacement shard(Pod p) {
    ShardPlacement sp = new ShardPlacement();
    sp.index = ReplicaGroup.intLabel(p, InferenceGroup.SHARD_LABEL, 0);
    sp.pod = p.getMetadata().getName();
    sp.node = p.getSpec().getNodeName();
    sp.provider = p.getMetadata().getLabels().get(GpupoolApi.PROVIDER_LABEL);
    var a = p.getMetadata().getAnnotations();
    sp.gpuModel = a == null ? null : a.get(InferenceGroup.GPU_PRODUCT_ANNOTATION);
    sp.gpus = intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1);
    int milli = intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000);
    sp.gpuMilli = milli < 1000 ? milli : null;
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
