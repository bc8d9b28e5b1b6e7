package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelWeightsSource;
import io.gpupool.operator.validation.WeightsRules;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model weights of an InferenceJob in its pods: a volume keyed by the URI's digest (a hostPath
 * directory under the cache root when cached, so every later replica on the node finds it, or an
 * emptyDir), a first init container that fetches the weights into it unless they are there, and a
 * read-only mount in the server. Pure; the fetch contract is in docs/inference.md.
 */
public final class ModelCache {
  public static final String VOLUME = WeightsRules.VOLUME;
  public static final String FETCH_CONTAINER = WeightsRules.FETCH_CONTAINER;

  /** Digest of the weights' URI on each pod: which cache entry it reads. */
  public static final String DIGEST_LABEL = "gpupool.io/weights-digest";

  public static final String BYTES_ANNOTATION = "gpupool.io/weights-bytes";

  /** Env of the fetch container and the server. */
  public static final String URI_ENV = "GPUPOOL_WEIGHTS_URI";

  public static final String DIR_ENV = "GPUPOOL_WEIGHTS_DIR";
  public static final String BYTES_ENV = "GPUPOOL_WEIGHTS_BYTES";

  /** Where the fetch container sees the volume (read-write). */
  public static final String FETCH_DIR = "/weights";

  /** What the fetch container writes to its termination message. */
  public static final String HIT = "Hit";

  public static final String MISS = "Miss";
  public static final String PULLING = "Pulling";

  /** Fetched, but the fetcher did not say whether it found the weights. */
  public static final String FETCHED = "Fetched";

  private static final long GIB = 1L << 30;

  /**
   * The operator's side of the cache.
   *
   * @param root directory on every node under which each model's weights get a directory
   * @param fetcherImage image of the fetch init container
   * @param fetcherCommand its command; it gets the URI and the directory in its env
   */
  public record Settings(String root, String fetcherImage, List<String> fetcherCommand) {
    public static final Settings DEFAULT =
        new Settings(
            "/var/lib/gpupool/weights",
            "ghcr.io/gpupool/workloads:0.1",
            List.of("python3", "/workloads/fetch_weights.py"));

    public Settings {
      root = root.endsWith("/") && root.length() > 1 ? root.substring(0, root.length() - 1) : root;
      fetcherCommand = List.copyOf(fetcherCommand);
    }
  }

  /** How one pod's weights fetch went, read from its init container's status. */
  public record Outcome(String digest, long bytes, String result, Double seconds) {
    public boolean done() {
      return !PULLING.equals(result);
    }

    public boolean hit() {
      return HIT.equals(result);
    }

    public boolean miss() {
      return MISS.equals(result);
    }
  }

  private ModelCache() {}

  /** The cache key of a weights URI: 32 hex digits of its SHA-256. */
  public static String digest(String uri) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(uri.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static long bytes(ModelWeightsSource w) {
    return w.sizeGiB * GIB;
  }

  public static String mountPath(ModelWeightsSource w) {
    return WeightsRules.mountPath(w);
  }

  /** The pod with the weights volume, the fetch init container first, and the server's mount. */
  static Pod apply(Pod pod, InferenceJobSpec spec, String serverContainer, Settings settings) {
    ModelWeightsSource w = spec.weights;
    if (w == null) {
      return pod;
    }
    String digest = digest(w.uri);
    pod.getMetadata().getLabels().put(DIGEST_LABEL, digest);
    pod.getMetadata().getAnnotations().put(BYTES_ANNOTATION, Long.toString(bytes(w)));
    var podSpec = pod.getSpec();
    List<Volume> volumes = new ArrayList<>();
    volumes.add(volume(w, digest, settings));
    if (podSpec.getVolumes() != null) {
      volumes.addAll(podSpec.getVolumes());
    }
    podSpec.setVolumes(volumes);
    List<Container> init = new ArrayList<>();
    init.add(fetcher(w, settings));
    if (podSpec.getInitContainers() != null) {
      init.addAll(podSpec.getInitContainers());
    }
    podSpec.setInitContainers(init);
    for (Container c : podSpec.getContainers()) {
      if (!serverContainer.equals(c.getName())) {
        continue;
      }
      List<VolumeMount> mounts = new ArrayList<>();
      mounts.add(
          new VolumeMountBuilder()
              .withName(VOLUME)
              .withMountPath(mountPath(w))
              .withReadOnly(true)
              .build());
      if (c.getVolumeMounts() != null) {
        mounts.addAll(c.getVolumeMounts());
      }
      c.setVolumeMounts(mounts);
      List<EnvVar> env = new ArrayList<>(c.getEnv() == null ? List.of() : c.getEnv());
      env.removeIf(e -> URI_ENV.equals(e.getName()) || DIR_ENV.equals(e.getName()));
      env.add(new EnvVar(URI_ENV, w.uri, null));
      env.add(new EnvVar(DIR_ENV, mountPath(w), null));
      c.setEnv(env);
    }
    return pod;
  }

  private static Volume volume(ModelWeightsSource w, String digest, Settings settings) {
    VolumeBuilder b = new VolumeBuilder().withName(VOLUME);
    if (w.cached()) {
      return b.withNewHostPath()
          .withPath(settings.root() + "/" + digest)
          .withType("DirectoryOrCreate")
          .endHostPath()
          .build();
    }
    return b.withNewEmptyDir().withSizeLimit(new Quantity(w.sizeGiB + "Gi")).endEmptyDir().build();
  }

  private static Container fetcher(ModelWeightsSource w, Settings settings) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(URI_ENV, w.uri);
    env.put(DIR_ENV, FETCH_DIR);
    env.put(BYTES_ENV, Long.toString(bytes(w)));
    return new ContainerBuilder()
        .withName(FETCH_CONTAINER)
        .withImage(settings.fetcherImage())
        .withCommand(settings.fetcherCommand())
        .withEnv(
            env.entrySet().stream().map(e -> new EnvVar(e.getKey(), e.getValue(), null)).toList())
        .withVolumeMounts(
            new VolumeMountBuilder().withName(VOLUME).withMountPath(FETCH_DIR).build())
        // The fetcher says Hit or Miss in its termination message; the operator reads it.
        .withTerminationMessagePath("/dev/termination-log")
        .withTerminationMessagePolicy("File")
        .build();
  }

  /**
   * How the pod's weights fetch went: Pulling while the fetch container has not finished, then Hit
   * or Miss with how long it took; empty for pods without weights or whose fetch failed (the pod
   * fails, and the group is replaced).
   */
  public static Optional<Outcome> outcome(Pod pod) {
    var labels = pod.getMetadata().getLabels();
    String digest = labels == null ? null : labels.get(DIGEST_LABEL);
    if (digest == null) {
      return Optional.empty();
    }
    long bytes = ReplicaReport.longAnnotation(pod, BYTES_ANNOTATION, 0);
    ContainerStatus status =
        pod.getStatus() == null || pod.getStatus().getInitContainerStatuses() == null
            ? null
            : pod.getStatus().getInitContainerStatuses().stream()
                .filter(s -> FETCH_CONTAINER.equals(s.getName()))
                .findFirst()
                .orElse(null);
    ContainerStateTerminated done =
        status == null || status.getState() == null ? null : status.getState().getTerminated();
    if (done == null) {
      boolean running = pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
      // A Running pod has passed its init containers even if its status does not list them: the
      // node holds the weights now, whether they were found or pulled is not known.
      return Optional.of(new Outcome(digest, bytes, running ? FETCHED : PULLING, null));
    }
    if (done.getExitCode() == null || done.getExitCode() != 0) {
      return Optional.empty();
    }
    String message = done.getMessage() == null ? "" : done.getMessage().trim();
    Double seconds = null;
    if (done.getStartedAt() != null && done.getFinishedAt() != null) {
      seconds =
          Duration.between(Instant.parse(done.getStartedAt()), Instant.parse(done.getFinishedAt()))
                  .toMillis()
              / 1000.0;
    }
    String result =
        HIT.equalsIgnoreCase(message) ? HIT : MISS.equalsIgnoreCase(message) ? MISS : FETCHED;
    return Optional.of(new Outcome(digest, bytes, result, seconds));
  }
}
