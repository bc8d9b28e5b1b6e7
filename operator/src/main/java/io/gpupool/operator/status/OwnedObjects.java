package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.gpupool.api.v1alpha1.GpuRequirements;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every object a job owns shares: its controller reference and the env merge rule; and what a
 * training gang and an inference replica group are built from alike: the headless Service that
 * gives their pods stable DNS names, and pods bound to the planned node holding their GPU slots and
 * the spec's CPU and memory. Pure; the kinds' builders ({@code TrainingGang}, {@code
 * InferenceGroup}) add what is their own (names, labels, environment, ports, volumes).
 */
public final class OwnedObjects {
  private static final String GPU_TAINT = "nvidia.com/gpu";

  private OwnedObjects() {}

  /** The controller reference that ties a pod or Service to its job for garbage collection. */
  public static OwnerReference controllerReference(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /**
   * The user's variables, then the operator's; on a name clash the operator's wins, since a wrong
   * rank or group size hangs the whole gang.
   */
  public static List<EnvVar> mergeEnv(List<EnvVar> user, Map<String, String> ours) {
    List<EnvVar> result = new ArrayList<>();
    if (user != null) {
      for (EnvVar v : user) {
        if (!ours.containsKey(v.getName())) {
          result.add(v);
        }
      }
    }
    ours.forEach((k, v) -> result.add(new EnvVar(k, v, null)));
    return result;
  }

  /**
   * A headless Service owned by {@code job}: a DNS name for each pod it selects, ready or not
   * (ranks and shards find each other before any of them serves).
   */
  public static Service headlessService(
      HasMetadata job,
      String name,
      Map<String, String> labels,
      Map<String, String> selector,
      String portName,
      int port) {
    return new ServiceBuilder()
        .withMetadata(metadata(job, name, labels))
        .withNewSpec()
        .withClusterIP("None")
        .withPublishNotReadyAddresses(true)
        .withSelector(selector)
        .addNewPort()
        .withName(portName)
        .withPort(port)
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * A pod owned by {@code job} and bound to {@code node} by name: the operator places whole groups,
   * so binding by nodeName creates every pod of one at once. Reachable as {@code
   * hostname.subdomain}; never restarted alone (the operator restarts or recreates the whole
   * group); tolerating the GPU taint. The caller adds what else its kind needs.
   */
  public static PodBuilder boundPod(
      HasMetadata job,
      String name,
      Map<String, String> labels,
      String node,
      String hostname,
      String subdomain,
      Container container) {
    return new PodBuilder()
        .withMetadata(metadata(job, name, labels))
        .withNewSpec()
        .withNodeName(node)
        .withHostname(hostname)
        .withSubdomain(subdomain)
        .withRestartPolicy("Never")
        .addNewToleration()
        .withKey(GPU_TAINT)
        .withOperator("Exists")
        .withEffect("NoSchedule")
        .endToleration()
        .withContainers(container)
        .endSpec();
  }

  /** An object of {@code job}'s, in its namespace, collected with it. */
  private static ObjectMeta metadata(HasMetadata job, String name, Map<String, String> labels) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(controllerReference(job))
        .build();
  }

  /**
   * {@code slots} of the device-plugin resource {@code gpuResource}, requested and limited alike;
   * the spec's CPU requested; its memory requested and limited.
   */
  public static ResourceRequirements resources(
      String gpuResource, int slots, GpuRequirements spec) {
    Map<String, Quantity> limits = new LinkedHashMap<>();
    limits.put(gpuResource, new Quantity(Integer.toString(slots)));
    Map<String, Quantity> requests = new LinkedHashMap<>(limits);
    if (spec != null && spec.cpu != null) {
      requests.put("cpu", new Quantity(spec.cpu));
    }
    if (spec != null && spec.memory != null) {
      requests.put("memory", new Quantity(spec.memory));
      limits.put("memory", new Quantity(spec.memory));
    }
    return new ResourceRequirementsBuilder().withLimits(limits).withRequests(requests).build();
  }
}
