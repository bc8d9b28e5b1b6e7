package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.operator.podtemplate.PodTemplateMerge;
import io.gpupool.operator.status.OwnedObjects;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kubernetes objects that serve an InferenceJob: per replica group one headless Service and one
 * pod per shard (leader = shard 0), and one ClusterIP Service in front of the ready leaders. Pure.
 *
 * <p>Pods carry the LeaderWorkerSet and KServe multi-node variables serving images already read,
 * plus gpupool's own ({@code GPUPOOL_*}) for the heterogeneous split.
 */
public final class InferenceGroup {
  public static final String KIND = "InferenceJob";
  public static final String REPLICA_LABEL = "gpupool.io/replica";
  public static final String SHARD_LABEL = "gpupool.io/shard";
  public static final String GROUP_LABEL = "gpupool.io/group";
  public static final String GROUP_SIZE_LABEL = "gpupool.io/group-size";
  public static final String ROLE_LABEL = "gpupool.io/role";
  public static final String SPEC_HASH_LABEL = "gpupool.io/spec-hash";

  /** "true" on leaders being drained; the Service selects only "false". */
  public static final String DRAINING_LABEL = "gpupool.io/draining";

  public static final String DRAINING_SINCE_ANNOTATION = "gpupool.io/draining-since";
  public static final String GPUS_ANNOTATION = "gpupool.io/gpus";
  public static final String GPU_MILLI_ANNOTATION = "gpupool.io/gpu-milli";
  public static final String GPU_PRODUCT_ANNOTATION = "gpupool.io/gpu-product";
  public static final String LAYERS_ANNOTATION = "gpupool.io/layers";
  public static final String CONTAINER = "server";
  public static final int DEFAULT_PORT = 8000;

  /** Env contract, documented in docs/inference.md. */
  public static final String LWS_LEADER_ADDRESS = "LWS_LEADER_ADDRESS";

  public static final String LWS_GROUP_SIZE = "LWS_GROUP_SIZE";
  public static final String LWS_WORKER_INDEX = "LWS_WORKER_INDEX";
  public static final String PIPELINE_PARALLEL_SIZE = "PIPELINE_PARALLEL_SIZE";
  public static final String TENSOR_PARALLEL_SIZE = "TENSOR_PARALLEL_SIZE";
  public static final String JOB_NAME_ENV = "GPUPOOL_JOB_NAME";
  public static final String REPLICA_ENV = "GPUPOOL_REPLICA_INDEX";
  public static final String FIRST_LAYER_ENV = "GPUPOOL_FIRST_LAYER";
  public static final String LAST_LAYER_ENV = "GPUPOOL_LAST_LAYER";
  public static final String GPU_MODEL_ENV = "GPUPOOL_GPU_MODEL";
  public static final String SHARE_MILLI_ENV = "GPUPOOL_GPU_SHARE_MILLI";
  public static final String PORT_ENV = "GPUPOOL_PORT";

  /**
   * With spec.weights: the weights' URI and where the server reads them (see {@link ModelCache}).
   */
  public static final String WEIGHTS_URI_ENV = ModelCache.URI_ENV;

  public static final String WEIGHTS_DIR_ENV = ModelCache.DIR_ENV;

  /** The fetch container's only: the weights' size. */
  public static final String WEIGHTS_BYTES_ENV = ModelCache.BYTES_ENV;

  private InferenceGroup() {}

  public static int port(InferenceJobSpec spec) {
    return spec.port == null ? DEFAULT_PORT : spec.port;
  }

  /** Name of the headless Service (and pod subdomain) of replica {@code replica}. */
  public static String groupService(InferenceJob job, int replica) {
    return job.getMetadata().getName() + "-r" + replica;
  }

  /** Host name of a shard under its group's headless Service. */
  public static String hostname(InferenceJob job, int replica, int shard) {
    return groupService(job, replica) + "-" + shard;
  }

  /** DNS name of the group's leader. */
  public static String leaderAddress(InferenceJob job, int replica) {
    return hostname(job, replica, 0)
        + "."
        + groupService(job, replica)
        + "."
        + job.getMetadata().getNamespace()
        + ".svc";
  }

  /** The in-cluster URL of the job's Service. */
  public static String endpoint(InferenceJob job) {
    return "http://"
        + job.getMetadata().getName()
        + "."
        + job.getMetadata().getNamespace()
        + ".svc:"
        + port(job.getSpec());
  }

  /**
   * A short hash of what the pods run (image, command, args, env, port): pods with another hash are
   * replaced by a rolling update.
   */
  public static String specHash(InferenceJobSpec spec) {
    StringBuilder b = new StringBuilder();
    b.append(spec.image).append('\n').append(spec.command).append('\n').append(spec.args);
    b.append('\n').append(port(spec)).append('\n');
    if (spec.env != null) {
      for (EnvVar e : spec.env) {
        b.append(e.getName()).append('=').append(e.getValue()).append(';');
        if (e.getValueFrom() != null) {
          b.append(e.getValueFrom());
        }
      }
    }
    if (spec.weights != null) {
      // other weights, or another place for them, need new pods
      b.append(spec.weights.uri)
          .append(spec.weights.cached())
          .append(ModelCache.mountPath(spec.weights));
    }
    if (spec.template != null) {
      // a changed template (a new volume, a sidecar) rolls the replicas like a new image
      b.append(Serialization.asJson(spec.template));
    }
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(b.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Labels on everything the job owns. */
  public static Map<String, String> labels(InferenceJob job) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName());
    labels.put(GpupoolApi.JOB_KIND_LABEL, KIND);
    return labels;
  }

  /** The ClusterIP Service in front of the leaders that are not draining. */
  public static Service service(InferenceJob job) {
    Map<String, String> selector = labels(job);
    selector.put(ROLE_LABEL, "leader");
    selector.put(DRAINING_LABEL, "false");
    int port = port(job.getSpec());
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(job.getMetadata().getName())
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(labels(job))
        .withOwnerReferences(OwnedObjects.controllerReference(job))
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(selector)
        .addNewPort()
        .withName("http")
        .withPort(port)
        .withTargetPort(new IntOrString(port))
        .endPort()
        .endSpec()
        .build();
  }

  /** The headless Service giving a group's shards stable DNS names (the leader address). */
  public static Service groupService(InferenceJob job, int replica, String group) {
    Map<String, String> selector = labels(job);
    selector.put(GROUP_LABEL, group);
    Map<String, String> labels = labels(job);
    labels.put(REPLICA_LABEL, Integer.toString(replica));
    return OwnedObjects.headlessService(
        job, groupService(job, replica), labels, selector, "http", port(job.getSpec()));
  }

  /** One pod per shard of a replica group; {@code group} is unique to this incarnation. */
  public static List<Pod> pods(
      InferenceJob job, List<ShardAssignment> shards, String group, String specHash) {
    return pods(job, shards, group, specHash, ModelCache.Settings.DEFAULT);
  }

  /** As above, with the weights cache where {@code cache} puts it. */
  public static List<Pod> pods(
      InferenceJob job,
      List<ShardAssignment> shards,
      String group,
      String specHash,
      ModelCache.Settings cache) {
    List<Pod> pods = new ArrayList<>(shards.size());
    for (ShardAssignment s : shards) {
      pods.add(pod(job, s, group, specHash, cache));
    }
    return pods;
  }

  static Pod pod(
      InferenceJob job,
      ShardAssignment s,
      String group,
      String specHash,
      ModelCache.Settings cache) {
    InferenceJobSpec spec = job.getSpec();
    Map<String, String> labels = labels(job);
    labels.put(REPLICA_LABEL, Integer.toString(s.replica()));
    labels.put(SHARD_LABEL, Integer.toString(s.shard()));
    labels.put(GROUP_LABEL, group);
    labels.put(GROUP_SIZE_LABEL, Integer.toString(s.groupSize()));
    labels.put(ROLE_LABEL, s.leader() ? "leader" : "worker");
    labels.put(SPEC_HASH_LABEL, specHash);
    labels.put(DRAINING_LABEL, "false");
    labels.put(GpupoolApi.PROVIDER_LABEL, s.provider());

    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(GPUS_ANNOTATION, Integer.toString(s.gpus()));
    annotations.put(GPU_MILLI_ANNOTATION, Integer.toString(s.gpuMilli()));
    annotations.put(GPU_PRODUCT_ANNOTATION, s.gpuProduct());
    annotations.put(LAYERS_ANNOTATION, s.firstLayer() + "-" + s.lastLayer());

    int port = port(spec);
    ContainerBuilder container =
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(spec.image)
            .withCommand(spec.command)
            .withArgs(spec.args)
            .withEnv(env(job, s))
            .addNewPort()
            .withName("http")
            .withContainerPort(port)
            .endPort()
            .withResources(OwnedObjects.resources(s.gpuResource(), s.slots(), spec.resources));
    if (s.leader()) {
      // The Service sends traffic to a leader only once its server accepts connections.
      container
          .withNewReadinessProbe()
          .withNewTcpSocket()
          .withPort(new IntOrString(port))
          .endTcpSocket()
          .withPeriodSeconds(5)
          .endReadinessProbe();
    }
    Container c = container.build();
    Pod pod =
        OwnedObjects.boundPod(
                job,
                groupService(job, s.replica()) + "-" + group + "-" + s.shard(),
                labels,
                s.node(),
                hostname(job, s.replica(), s.shard()),
                groupService(job, s.replica()),
                c)
            .editMetadata()
            .withAnnotations(annotations)
            .endMetadata()
            .build();
    // The fetch container goes first, before the template's own init containers, which may
    // read the weights too.
    return PodTemplateMerge.apply(
        ModelCache.apply(pod, spec, CONTAINER, cache), CONTAINER, spec.template);
  }

  static List<EnvVar> env(InferenceJob job, ShardAssignment s) {
    InferenceJobSpec spec = job.getSpec();
    Map<String, String> env = new LinkedHashMap<>();
    env.put(LWS_LEADER_ADDRESS, leaderAddress(job, s.replica()));
    env.put(LWS_GROUP_SIZE, Integer.toString(s.groupSize()));
    env.put(LWS_WORKER_INDEX, Integer.toString(s.shard()));
    env.put(PIPELINE_PARALLEL_SIZE, Integer.toString(s.groupSize()));
    env.put(TENSOR_PARALLEL_SIZE, Integer.toString(s.gpus()));
    env.put(JOB_NAME_ENV, job.getMetadata().getName());
    env.put(REPLICA_ENV, Integer.toString(s.replica()));
    env.put(FIRST_LAYER_ENV, Integer.toString(s.firstLayer()));
    env.put(LAST_LAYER_ENV, Integer.toString(s.lastLayer()));
    env.put(GPU_MODEL_ENV, s.gpuProduct());
    env.put(SHARE_MILLI_ENV, Integer.toString(s.gpuMilli()));
    env.put(PORT_ENV, Integer.toString(port(spec)));
    return OwnedObjects.mergeEnv(spec.env, env);
  }
}
