package io.gpupool.operator.validation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code spec.template} and {@code spec.env} may not do: take over what the operator owns
 * (node binding, GPU requests, the rendezvous env, its labels) or contradict itself. The CRD's CEL
 * rules say the same; each problem names its field.
 */
public final class PodTemplateRules {
  /** torchrun's rendezvous: a wrong value hangs or splits the gang. */
  public static final Set<String> TRAINING_ENV =
      Set.of("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK");

  public static final List<String> TRAINING_ENV_PREFIXES = List.of("PET_");

  /** The serving group's addresses and split (LeaderWorkerSet / KServe variables). */
  public static final Set<String> INFERENCE_ENV =
      Set.of("PIPELINE_PARALLEL_SIZE", "TENSOR_PARALLEL_SIZE");

  public static final List<String> INFERENCE_ENV_PREFIXES = List.of("LWS_");

  private PodTemplateRules() {}

  /** Refuses env variables the operator sets for the gang to find itself. */
  public static void checkEnv(
      SpecProblems p, String field, List<EnvVar> env, Set<String> names, List<String> prefixes) {
    if (env == null) {
      return;
    }
    for (int i = 0; i < env.size(); i++) {
      String name = env.get(i).getName();
      if (name != null && (names.contains(name) || prefixes.stream().anyMatch(name::startsWith))) {
        p.add(
            field + "[" + i + "].name",
            "Forbidden: " + name + " is set by the operator (rendezvous); it cannot be overridden");
      }
    }
  }

  /** Checks a pod template; null is fine. */
  public static void check(SpecProblems p, String field, PodTemplate t) {
    if (t == null) {
      return;
    }
    if (t.nodeName != null) {
      p.add(
          field + ".nodeName",
          "Forbidden: the operator binds every pod to the node its placement chose (use"
              + " nodeSelector or affinity to narrow the placement)");
    }
    SchedulingRules.checkAffinity(p, field + ".affinity", t.affinity);
    SchedulingRules.checkTolerations(p, field + ".tolerations", t.tolerations);
    SchedulingRules.checkMetadata(p, field + ".labels", t.labels, true);
    SchedulingRules.checkMetadata(p, field + ".annotations", t.annotations, false);
    if (t.labels != null) {
      t.labels.keySet().stream()
          .filter(k -> k.startsWith("gpupool.io/"))
          .sorted()
          .forEach(
              k ->
                  p.add(
                      field + ".labels",
                      "Forbidden: " + k + ": gpupool.io/ labels are the operator's"));
    }
    noGpus(p, field + ".initContainers", t.initContainers);
    noGpus(p, field + ".sidecars", t.sidecars);
    Set<String> containers = new HashSet<>();
    containerNames(p, field + ".initContainers", t.initContainers, containers);
    containerNames(p, field + ".sidecars", t.sidecars, containers);
    if (t.shmSize != null) {
      try {
        if (Quantity.getAmountInBytes(new Quantity(t.shmSize)).signum() <= 0) {
          p.add(field + ".shmSize", "Invalid value: " + t.shmSize + ": must be positive");
        }
      } catch (IllegalArgumentException e) {
        p.add(field + ".shmSize", "Invalid value: " + t.shmSize + ": not a quantity");
      }
    }
    Set<String> volumes = new HashSet<>();
    if (t.volumes != null) {
      for (int i = 0; i < t.volumes.size(); i++) {
        Volume v = t.volumes.get(i);
        if (v.getName() == null || !volumes.add(v.getName())) {
          p.add(field + ".volumes[" + i + "].name", "Duplicate value: " + v.getName());
        } else if (PodTemplate.SHM_VOLUME.equals(v.getName())) {
          p.add(
              field + ".volumes[" + i + "].name",
              "Forbidden: " + PodTemplate.SHM_VOLUME + " is the operator's /dev/shm volume");
        } else if (PodTemplate.PREEMPT_NOTICE_VOLUME.equals(v.getName())) {
          p.add(
              field + ".volumes[" + i + "].name",
              "Forbidden: "
                  + PodTemplate.PREEMPT_NOTICE_VOLUME
                  + " is the operator's preemption-notice volume");
        }
      }
    }
    if (t.volumeMounts != null) {
      for (int i = 0; i < t.volumeMounts.size(); i++) {
        VolumeMount m = t.volumeMounts.get(i);
        if (!volumes.contains(m.getName())) {
          p.add(
              field + ".volumeMounts[" + i + "].name",
              "Not found: " + m.getName() + ": no volume of that name in " + field + ".volumes");
        }
        if (m.getMountPath() != null
            && PodTemplate.PREEMPT_NOTICE_DIRECTORY.equals(stripSlash(m.getMountPath()))) {
          p.add(
              field + ".volumeMounts[" + i + "].mountPath",
              "Duplicate value: "
                  + PodTemplate.PREEMPT_NOTICE_DIRECTORY
                  + ": the operator mounts the preemption notice there");
        }
        if (t.shmSize != null && "/dev/shm".equals(m.getMountPath())) {
          p.add(
              field + ".volumeMounts[" + i + "].mountPath",
              "Duplicate value: /dev/shm: shmSize mounts it already");
        }
      }
    }
  }

  /**
   * Init containers and sidecars share one name space with the main container in a pod: a name
   * taken twice, or the main container's, makes the API server refuse every pod of the job. The CRD
   * refuses the main container's names; duplicates are found here only (a CEL rule comparing every
   * pair of names costs too much for the API server's estimate).
   */
  private static void containerNames(
      SpecProblems p, String field, List<Container> list, Set<String> seen) {
    if (list == null) {
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      String name = list.get(i).getName();
      if (name == null) {
        continue;
      }
      if (PodTemplate.MAIN_CONTAINER_NAMES.contains(name)) {
        p.add(
            field + "[" + i + "].name",
            "Forbidden: " + name + " is the main container's name (worker or server)");
      } else if (!seen.add(name)) {
        p.add(
            field + "[" + i + "].name",
            "Duplicate value: "
                + name
                + ": init containers and sidecars need names unique within the pod");
      }
    }
  }

  private static String stripSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  private static void noGpus(SpecProblems p, String field, List<Container> containers) {
    if (containers == null) {
      return;
    }
    for (int i = 0; i < containers.size(); i++) {
      Container c = containers.get(i);
      if (c.getResources() == null) {
        continue;
      }
      for (Map<String, Quantity> m :
          List.of(orEmpty(c.getResources().getLimits()), orEmpty(c.getResources().getRequests()))) {
        for (String resource : m.keySet()) {
          if (resource.startsWith("nvidia.com/")) {
            p.add(
                field + "[" + i + "].resources",
                "Forbidden: "
                    + resource
                    + ": the operator sizes the GPU requests; only the main"
                    + " container gets GPUs");
            return;
          }
        }
      }
    }
  }

  private static Map<String, Quantity> orEmpty(Map<String, Quantity> m) {
    return m == null ? Map.of() : m;
  }
}
