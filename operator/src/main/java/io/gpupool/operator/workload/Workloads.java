package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;

/**
 * Every write the job reconcilers make to pods and Services, behind one port both kinds use (a
 * training gang and an inference replica group are the same thing to it: a group of pods created
 * whole). {@link KubernetesWorkloads} talks to the API server; tests use a fake with failure
 * switches.
 */
public interface Workloads {

  /**
   * Creates a group whole: its Services (created, or updated when they exist) and then its pods. If
   * any pod cannot be created, the pods created so far are deleted and {@link GroupNotCreated} is
   * thrown: no partial group survives.
   *
   * @param adopt accepts an existing pod of the same name as this group's own (a retried creation
   *     whose first attempt was not recorded); (wanted, existing)
   * @return the pods as the API server stored them
   */
  List<Pod> createGroup(
      String namespace, List<Service> services, List<Pod> pods, BiPredicate<Pod, Pod> adopt);

  /** Deletes one pod; one already gone is not an error. */
  void deletePod(Pod pod);

  /**
   * The pod as the API server has it now, not as a cache does: asked only before a destructive
   * decision that rests on a pod being gone. Empty when it does not exist (this default: a
   * workloads implementation that cannot ask says so by the same empty answer).
   */
  default Optional<Pod> podOnServer(String namespace, String name) {
    return Optional.empty();
  }

  /**
   * Marks a pod as draining since {@code since} (label and annotation): it leaves the Services that
   * select non-draining pods and is deleted once its drain period has passed.
   *
   * @return the pod as the API server stored it, or null when it is gone
   */
  Pod drain(Pod pod, String label, String sinceAnnotation, Instant since);

  /**
   * Sets one annotation on a pod (the preemption notice its downward-API file shows).
   *
   * @return the pod as the API server stored it, or null when it is gone
   */
  Pod annotate(Pod pod, String key, String value);

  /** Deletes one Service; one already gone is not an error. */
  void deleteService(Service service);

  /** Deletes every pod and Service labelled as the job's (kind and name), at once. */
  void deleteAll(String namespace, String kind, String jobName);

  /** A group could not be created whole; what had been created was deleted again. */
  final class GroupNotCreated extends RuntimeException {
    public GroupNotCreated(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
