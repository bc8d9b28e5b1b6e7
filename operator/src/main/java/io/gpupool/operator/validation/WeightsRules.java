package io.gpupool.operator.validation;

import io.gpupool.api.v1alpha1.ModelWeightsSource;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.operator.inference.ModelCache;

/**
 * spec.weights of an InferenceJob: what the schema says again (for clusters that do not validate
 * it), and the names the operator gives the weights volume, its mount and its fetch container,
 * which the pod template must leave free.
 */
final class WeightsRules {

  private WeightsRules() {}

  static void check(SpecProblems p, ModelWeightsSource w, PodTemplate t) {
    if (w == null) {
      return;
    }
    String f = "spec.weights";
    if (w.uri == null || w.uri.isBlank()) {
      p.add(f + ".uri", "Required value: where the weights come from");
    } else if (w.uri.length() > 1024 || !w.uri.matches("^[a-z][a-z0-9+.-]*://\\S+$")) {
      p.add(
          f + ".uri",
          "Invalid value: "
              + w.uri
              + ": a URI with a scheme (hf://, s3://, https://, file://), at most 1024 characters");
    }
    if (w.sizeGiB == null) {
      p.add(f + ".sizeGiB", "Required value: size of the weights in GiB");
    } else {
      p.checkRange(f + ".sizeGiB", w.sizeGiB, 1, 100000);
    }
    String mount = ModelCache.mountPath(w);
    if (!mount.startsWith("/")
        || mount.length() < 2
        || mount.chars().anyMatch(Character::isWhitespace)
        || mount.equals("/dev")
        || mount.startsWith("/dev/")
        || mount.startsWith("/proc")) {
      p.add(
          f + ".mountPath",
          "Invalid value: " + mount + ": an absolute path outside /dev and /proc");
    }
    if (t == null) {
      return;
    }
    if (t.volumes != null) {
      for (int i = 0; i < t.volumes.size(); i++) {
        if (ModelCache.VOLUME.equals(t.volumes.get(i).getName())) {
          p.add(
              "spec.template.volumes[" + i + "].name",
              "Forbidden: " + ModelCache.VOLUME + " is the operator's weights volume");
        }
      }
    }
    if (t.volumeMounts != null) {
      for (int i = 0; i < t.volumeMounts.size(); i++) {
        if (mount.equals(t.volumeMounts.get(i).getMountPath())) {
          p.add(
              "spec.template.volumeMounts[" + i + "].mountPath",
              "Duplicate value: " + mount + ": spec.weights.mountPath mounts the weights there");
        }
      }
    }
    if (t.initContainers != null) {
      for (int i = 0; i < t.initContainers.size(); i++) {
        if (ModelCache.FETCH_CONTAINER.equals(t.initContainers.get(i).getName())) {
          p.add(
              "spec.template.initContainers[" + i + "].name",
              "Forbidden: " + ModelCache.FETCH_CONTAINER + " is the operator's weights fetcher");
        }
      }
    }
  }
}
