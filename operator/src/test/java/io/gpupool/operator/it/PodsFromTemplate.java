package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a placed job's pods must show of its {@code spec.template}: each sidecar, init container and
 * volume as the template has it, each template label and node selector key (the operator's own
 * values win on a shared key), the service account. Read from the pods as stored on the API server,
 * so a pod built without its template, or not created at all, is a difference.
 */
final class PodsFromTemplate {
  private PodsFromTemplate() {}

  /** Empty when {@code pods} (the job's pods) exist and carry {@code template}. */
  static List<String> differences(HasMetadata job, PodTemplate template, List<Pod> pods) {
    String name = job.getKind() + " " + job.getMetadata().getName();
    List<String> out = new ArrayList<>();
    if (pods.isEmpty()) {
      out.add(name + " runs but has no pods");
      return out;
    }
    if (template == null) {
      return out;
    }
    for (Pod pod : pods) {
      String where = name + " pod " + pod.getMetadata().getName() + ": ";
      var spec = pod.getSpec();
      for (Container sidecar : orEmpty(template.sidecars)) {
        if (!orEmpty(spec.getContainers()).contains(sidecar)) {
          out.add(where + "sidecar " + sidecar.getName() + " missing or changed");
        }
      }
      for (Container init : orEmpty(template.initContainers)) {
        if (!orEmpty(spec.getInitContainers()).contains(init)) {
          out.add(where + "init container " + init.getName() + " missing or changed");
        }
      }
      for (Volume volume : orEmpty(template.volumes)) {
        if (!orEmpty(spec.getVolumes()).contains(volume)) {
          out.add(where + "volume " + volume.getName() + " missing or changed");
        }
      }
      missingKeys(where + "label", template.labels, pod.getMetadata().getLabels(), out);
      missingKeys(where + "node selector", template.nodeSelector, spec.getNodeSelector(), out);
      if (template.serviceAccountName != null
          && !Objects.equals(template.serviceAccountName, spec.getServiceAccountName())) {
        out.add(where + "service account " + spec.getServiceAccountName());
      }
    }
    return out;
  }

  private static void missingKeys(
      String what, Map<String, String> wanted, Map<String, String> actual, List<String> out) {
    for (String key : orEmpty(wanted).keySet()) {
      if (!orEmpty(actual).containsKey(key)) {
        out.add(what + " " + key + " missing");
      }
    }
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
