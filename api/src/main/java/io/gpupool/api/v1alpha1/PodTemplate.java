package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.gpupool.api.crd.ItemBounds;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a real workload needs in its pods besides what the operator decides: volumes (PVCs for
 * datasets and checkpoints), pull secrets, identity, security, extra env sources, scheduling
 * constraints the placement honours, /dev/shm, init containers, sidecars, labels and annotations.
 * The operator's own fields (GPU requests, node binding, the rendezvous env) are not here and
 * cannot be set through it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value = "!has(self.nodeName)",
    message =
        "nodeName is the operator's: it binds every pod to the node its placement chose (use"
            + " nodeSelector or affinity to narrow the placement)",
    fieldPath = ".nodeName",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.sidecars) || self.sidecars.all(c, !has(c.resources)"
            + " || ((!has(c.resources.limits) || !("
            + PodTemplate.GPU_IN_LIMITS
            + "))"
            + " && (!has(c.resources.requests) || !("
            + PodTemplate.GPU_IN_REQUESTS
            + "))))",
    message = "sidecars must not request GPUs (nvidia.com/*): the operator sizes the GPU requests",
    fieldPath = ".sidecars",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.initContainers) || self.initContainers.all(c, !has(c.resources)"
            + " || ((!has(c.resources.limits) || !("
            + PodTemplate.GPU_IN_LIMITS
            + "))"
            + " && (!has(c.resources.requests) || !("
            + PodTemplate.GPU_IN_REQUESTS
            + "))))",
    message =
        "initContainers must not request GPUs (nvidia.com/*): the operator sizes the GPU requests",
    fieldPath = ".initContainers",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "!has(self.labels) || self.labels.all(k, !k.startsWith('gpupool.io/'))",
    message = "labels under gpupool.io/ are the operator's",
    fieldPath = ".labels",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.shmSize) || !has(self.volumeMounts) || self.volumeMounts.all(m, m.mountPath != '/dev/shm')",
    message = "shmSize mounts /dev/shm already: drop the volumeMount at /dev/shm",
    fieldPath = ".volumeMounts",
    reason = "FieldValueDuplicate")
@ValidationRule(
    value =
        "!has(self.sidecars) || self.sidecars.all(c, !has(c.name)"
            + " || (c.name != 'worker' && c.name != 'server'))",
    message = "sidecars must not be named worker or server: that is the main container's name",
    fieldPath = ".sidecars",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.initContainers) || self.initContainers.all(c, !has(c.name)"
            + " || (c.name != 'worker' && c.name != 'server'))",
    message =
        "initContainers must not be named worker or server: that is the main container's name",
    fieldPath = ".initContainers",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.volumes) || self.volumes.all(v, !has(v.name)"
            + " || v.name != '"
            + PodTemplate.PREEMPT_NOTICE_VOLUME
            + "')",
    message = PodTemplate.PREEMPT_NOTICE_VOLUME + " is the operator's preemption-notice volume",
    fieldPath = ".volumes",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.volumeMounts) || self.volumeMounts.all(m, !has(m.mountPath)"
            + " || (m.mountPath != '"
            + PodTemplate.PREEMPT_NOTICE_DIRECTORY
            + "' && m.mountPath != '"
            + PodTemplate.PREEMPT_NOTICE_DIRECTORY
            + "/'))",
    message =
        PodTemplate.PREEMPT_NOTICE_DIRECTORY
            + " is where the operator mounts the preemption notice: mount elsewhere",
    fieldPath = ".volumeMounts",
    reason = "FieldValueDuplicate")
public class PodTemplate {
  /*
   * The device plugin's GPU resources, looked up by key: a map lookup is O(1) for the API server's
   * CEL cost estimate, while iterating a container's resource maps (which have no maxProperties)
   * is not, and would keep the CRD from installing. Other nvidia.com/ resources (MIG devices) are
   * refused by the operator's validation, which checks every key.
   */
  static final String GPU_IN_LIMITS =
      "'nvidia.com/gpu' in c.resources.limits || 'nvidia.com/gpu.shared' in c.resources.limits";
  static final String GPU_IN_REQUESTS =
      "'nvidia.com/gpu' in c.resources.requests || 'nvidia.com/gpu.shared' in c.resources.requests";

  /** The name the operator gives the in-memory /dev/shm volume. */
  public static final String SHM_VOLUME = "gpupool-dshm";

  /**
   * The main container's name: {@code worker} in a TrainingJob's pods, {@code server} in an
   * InferenceJob's. Init containers and sidecars may take neither (a pod's container names are
   * unique, so the pod would be refused at creation).
   */
  public static final Set<String> MAIN_CONTAINER_NAMES = Set.of("worker", "server");

  /**
   * A container's name is a DNS-1123 label, required: Kubernetes refuses a pod with any other, so a
   * template holding one would fail every pod creation of its job.
   */
  static final int CONTAINER_NAME_LENGTH = 63;

  /** The downward-API volume of a training pod's preemption notice (docs/queues.md). */
  public static final String PREEMPT_NOTICE_VOLUME = "gpupool-preempt-notice";

  /** Where the main container of a training pod finds the preemption notice. */
  public static final String PREEMPT_NOTICE_DIRECTORY = "/etc/gpupool/preempt";

  @Size(max = 64)
  @JsonPropertyDescription(
      "Labels added to every pod; the operator's own (gpupool.io/...) cannot be set.")
  public Map<String, String> labels;

  @Size(max = 64)
  @JsonPropertyDescription("Annotations added to every pod; the operator's own keys win.")
  public Map<String, String> annotations;

  @Size(max = 253)
  @JsonPropertyDescription("Service account the pods run as.")
  public String serviceAccountName;

  @Size(max = 16)
  @JsonPropertyDescription("Secrets to pull the images (main, init and sidecar containers) with.")
  public List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("Pod-level security context (runAsUser, fsGroup, ...).")
  public PodSecurityContext securityContext;

  @JsonPropertyDescription("Security context of the main container (worker or server).")
  public SecurityContext containerSecurityContext;

  @Size(max = 32)
  @JsonPropertyDescription(
      "Volumes of every pod: PersistentVolumeClaims for datasets and checkpoints, Secrets,"
          + " ConfigMaps, emptyDirs ...")
  public List<Volume> volumes;

  @Size(max = 32)
  @JsonPropertyDescription("Where the main container mounts the volumes.")
  public List<VolumeMount> volumeMounts;

  @Size(max = 16)
  @JsonPropertyDescription(
      "Extra environment of the main container from Secrets and ConfigMaps; the operator's own"
          + " variables (rendezvous, ranks) always win over these.")
  public List<EnvFromSource> envFrom;

  @Pattern(ApiPatterns.QUANTITY)
  @JsonPropertyDescription(
      "Size of an in-memory /dev/shm for the main container (PyTorch data loaders share batches"
          + " through it; the container default is 64Mi), e.g. 8Gi.")
  public String shmSize;

  @Size(max = 32)
  @JsonPropertyDescription(
      "Pods only go to nodes with these labels: the placement chooses among matching nodes.")
  public Map<String, String> nodeSelector;

  @Size(max = 32)
  @JsonPropertyDescription(
      "Tolerations added to the operator's own (nvidia.com/gpu); the placement only uses nodes"
          + " whose NoSchedule/NoExecute taints are tolerated.")
  public List<Toleration> tolerations;

  @JsonPropertyDescription(
      "Affinity; its required node affinity narrows the placement like nodeSelector, its"
          + " preferred node affinity decides between placements before price (the most preferred"
          + " weight wins), the rest is copied to the pods.")
  public Affinity affinity;

  @Size(max = 8)
  @ItemBounds(
      field = "name",
      pattern = ApiPatterns.CONTAINER_NAME,
      maxLength = CONTAINER_NAME_LENGTH,
      required = true)
  @JsonPropertyDescription("Init containers, run before the main container; no GPUs.")
  public List<Container> initContainers;

  @Size(max = 8)
  @ItemBounds(
      field = "name",
      pattern = ApiPatterns.CONTAINER_NAME,
      maxLength = CONTAINER_NAME_LENGTH,
      required = true)
  @JsonPropertyDescription("Sidecar containers beside the main container; no GPUs.")
  public List<Container> sidecars;

  @JsonPropertyDescription(
      "Not settable: the operator binds each pod to the node its placement chose (an error"
          + " names this field).")
  public String nodeName;
}
