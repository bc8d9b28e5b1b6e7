package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * How a job kind hands pods to the {@link GroupBinder}: the one path by which a TrainingJob's gang,
 * an InferenceJob's replica group and a spot-check's verifier are created, each with its billing
 * terms recorded first, off the reconcile thread.
 *
 * @param binder creates the groups
 * @param billingTerms records the billing terms fixed at placement for a job's pods and writes them
 *     on; throws when they cannot be recorded, and the pods are then not created
 * @param created shows a pod just created to the kind's pod reads, before the watch delivers it
 * @param wake wakes the job when its group's creation has ended, whatever the outcome
 * @param <J> the job kind
 */
public record JobBinding<J extends HasMetadata>(
    GroupBinder binder,
    BiFunction<J, List<Pod>, List<Pod>> billingTerms,
    Consumer<Pod> created,
    Consumer<J> wake) {
  private static final Logger LOG = Logger.getLogger(JobBinding.class);

  /**
   * Creates {@code pods} (and {@code services}) of {@code job} whole or not at all, followed under
   * {@code key}: the job's step asks {@link GroupBinder#busy} and {@link GroupBinder#takeFailure}.
   *
   * @param what the group in messages ("gang", "replica 2")
   * @param adopt whether a pod found under a wanted pod's name is the group's own
   */
  public void bind(
      J job,
      String key,
      String what,
      List<Service> services,
      List<Pod> pods,
      BiPredicate<Pod, Pod> adopt) {
    binder.bind(
        new GroupBinder.Group(
            key,
            what,
            job.getMetadata().getNamespace(),
            services,
            pods,
            wanted -> billingTerms.apply(job, wanted),
            adopt),
        created,
        why ->
            LOG.warnf(
                "%s(%s/%s): %s",
                job.getKind(), job.getMetadata().getNamespace(), job.getMetadata().getName(), why),
        () -> wake.accept(job));
  }
}
