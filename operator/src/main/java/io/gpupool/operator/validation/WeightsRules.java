package io.gpupool.operator.validation;

import io.gpupool.api.v1alpha1.ModelWeightsSource;
import io.gpupool.api.v1alpha1.PodTemplate;

/**
 * spec.weights of an InferenceJob: what the schema says again (for clusters that do not validate
 * it), and the names the operator gives the weights volume, its mount and its fetch container,
 * which the pod template must leave free.
 */
public final class WeightsRules {
  /** The operator's weights volume; a pod template may not name one so. */
  public static final String VOLUME = "gpupool-weights";

  /** The operator's init container that fills the weights volume. */
  public static final String FETCH_CONTAINER = "fetch-weights";

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
    String mount = mountPath(w);
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
        if (VOLUME.equals(t.volumes.get(i).getName())) {
          p.add(
              "spec.template.volumes[" + i + "].name",
              "Forbidden: " + VOLUME + " is the operator's weights volume");
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
        if (FETCH_CONTAINER.equals(t.initContainers.get(i).getName())) {
          p.add(
              "spec.template.initContainers[" + i + "].name",
              "Forbidden: " + FETCH_CONTAINER + " is the operator's weights fetcher");
        }
      }
    }
  }

  /**
   * Where the server finds its weights: the spec's path or the default. Lives here, the lowest
   * layer that needs it, so validation and the pod builder agree without validation reaching up.
   */
  public static String mountPath(ModelWeightsSource w) {
    return w.mountPath == null ? "/mnt/models" : w.mountPath;
  }
}
