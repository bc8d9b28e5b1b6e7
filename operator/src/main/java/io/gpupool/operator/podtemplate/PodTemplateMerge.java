package io.gpupool.operator.podtemplate;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds a job's {@code spec.template} to a pod the operator built. Pure. The operator's decisions
 * always stand: node binding, restart policy, hostname, the main container's image, GPU requests,
 * env and ports are never touched; the template's labels and annotations never replace the
 * operator's; its tolerations are added to the operator's; its env sources come before the
 * operator's env (Kubernetes lets {@code env} win over {@code envFrom}).
 */
public final class PodTemplateMerge {
  /** Where the in-memory shared-memory volume is mounted. */
  public static final String SHM_PATH = "/dev/shm";

  private PodTemplateMerge() {}

  /** {@code pod} with {@code template} merged in; {@code pod} itself when template is null. */
  public static Pod apply(Pod pod, String mainContainer, PodTemplate template) {
    if (template == null) {
      return pod;
    }
    Pod merged = new PodBuilder(pod).build();
    mergeMetadata(merged, template);
    PodSpec spec = merged.getSpec();
    if (template.serviceAccountName != null) {
      spec.setServiceAccountName(template.serviceAccountName);
    }
    if (template.imagePullSecrets != null) {
      spec.setImagePullSecrets(new ArrayList<>(template.imagePullSecrets));
    }
    if (template.securityContext != null) {
      spec.setSecurityContext(template.securityContext);
    }
    if (template.nodeSelector != null) {
      Map<String, String> selector = new LinkedHashMap<>(template.nodeSelector);
      if (spec.getNodeSelector() != null) {
        selector.putAll(spec.getNodeSelector());
      }
      spec.setNodeSelector(selector);
    }
    if (template.affinity != null) {
      spec.setAffinity(template.affinity);
    }
    if (template.tolerations != null) {
      List<Toleration> tolerations = new ArrayList<>(orEmpty(spec.getTolerations()));
      template.tolerations.stream().filter(t -> !tolerations.contains(t)).forEach(tolerations::add);
      spec.setTolerations(tolerations);
    }
    List<Volume> volumes = new ArrayList<>(orEmpty(spec.getVolumes()));
    if (template.volumes != null) {
      volumes.addAll(template.volumes);
    }
    if (template.shmSize != null) {
      volumes.add(
          new VolumeBuilder()
              .withName(PodTemplate.SHM_VOLUME)
              .withEmptyDir(
                  new EmptyDirVolumeSourceBuilder()
                      .withMedium("Memory")
                      .withSizeLimit(new Quantity(template.shmSize))
                      .build())
              .build());
    }
    spec.setVolumes(volumes.isEmpty() ? null : volumes);
    if (template.initContainers != null) {
      List<Container> init = new ArrayList<>(orEmpty(spec.getInitContainers()));
      init.addAll(template.initContainers);
      spec.setInitContainers(init);
    }
    List<Container> containers = new ArrayList<>();
    for (Container c : spec.getContainers()) {
      containers.add(c.getName().equals(mainContainer) ? mainContainer(c, template) : c);
    }
    if (template.sidecars != null) {
      containers.addAll(template.sidecars);
    }
    spec.setContainers(containers);
    return merged;
  }

  private static void mergeMetadata(Pod pod, PodTemplate template) {
    if (template.labels != null) {
      Map<String, String> labels = new LinkedHashMap<>(template.labels);
      labels.putAll(orEmpty(pod.getMetadata().getLabels()));
      pod.getMetadata().setLabels(labels);
    }
    if (template.annotations != null) {
      Map<String, String> annotations = new LinkedHashMap<>(template.annotations);
      annotations.putAll(orEmpty(pod.getMetadata().getAnnotations()));
      pod.getMetadata().setAnnotations(annotations);
    }
  }

  private static Container mainContainer(Container c, PodTemplate template) {
    ContainerBuilder b = new ContainerBuilder(c);
    List<VolumeMount> mounts = new ArrayList<>(orEmpty(c.getVolumeMounts()));
    if (template.volumeMounts != null) {
      mounts.addAll(template.volumeMounts);
    }
    if (template.shmSize != null) {
      mounts.add(
          new VolumeMountBuilder()
              .withName(PodTemplate.SHM_VOLUME)
              .withMountPath(SHM_PATH)
              .build());
    }
    b.withVolumeMounts(mounts.isEmpty() ? null : mounts);
    if (template.envFrom != null) {
      b.withEnvFrom(template.envFrom);
    }
    if (template.containerSecurityContext != null) {
      b.withSecurityContext(template.containerSecurityContext);
    }
    return b.build();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
    return map == null ? Map.of() : map;
  }
}
