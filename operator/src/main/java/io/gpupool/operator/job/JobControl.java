package io.gpupool.operator.job;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.gpupool.operator.scope.SelectedNamespaces;
import io.gpupool.operator.status.CachedStatus;
import io.gpupool.operator.workload.GroupBinder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The JOSDK side both job reconcilers share: jobs of namespaces this install does not manage are
 * left alone, a reconcile runs the kind's {@link JobLoop} and writes its status through the
 * controller's cache, and a deleted job's pods are deleted and its GPUs freed.
 *
 * @param <S> the job's status
 * @param <J> the job resource
 */
public final class JobControl<S, J extends CustomResource<?, S>> {
  private static final Logger LOG = Logger.getLogger(JobControl.class);

  /** How soon a job deleted while its pods are being created is looked at again. */
  static final Duration BINDING_RECHECK = Duration.ofMillis(500);

  private final Class<J> type;
  private final String kind;
  private final JobCluster cluster;
  private final JobWakeups<J> wakeups;
  private final BiConsumer<J, List<Pod>> beforeDeleting;

  /**
   * {@code kind} is the job kind's name as pods carry it ({@code TrainingJob}, {@code
   * InferenceJob}); {@code beforeDeleting} meters and stores the usage of a deleted job's pods
   * before they are deleted (billing's {@code beforeDeleting}), and throws when it cannot.
   */
  public JobControl(
      Class<J> type,
      String kind,
      JobCluster cluster,
      JobWakeups<J> wakeups,
      BiConsumer<J, List<Pod>> beforeDeleting) {
    this.type = type;
    this.kind = kind;
    this.cluster = cluster;
    this.wakeups = wakeups;
    this.beforeDeleting = beforeDeleting;
  }

  /** One reconcile of {@code job} by {@code loop} ({@code JobLoop#reconcile}), status written. */
  public UpdateControl<J> reconcile(
      SelectedNamespaces scope,
      BiFunction<J, JobLoop.StatusWriter<J>, JobLoop.Outcome> loop,
      J job,
      Context<J> context) {
    if (!scope.manages(job.getMetadata().getNamespace())) {
      return UpdateControl.noUpdate(); // another install's (or no install's) namespace
    }
    wakeups.reconciling();
    JobLoop.Outcome outcome =
        loop.apply(job, j -> CachedStatus.write(cluster.client(), type, j, context));
    UpdateControl<J> control = UpdateControl.noUpdate();
    return outcome.recheck() == null ? control : control.rescheduleAfter(outcome.recheck());
  }

  /**
   * Deletes the job's pods (owner references would let Kubernetes collect them too; deleting them
   * here frees the GPUs now) and frees its GPUs ({@code releaseDeleted}). The groups {@code binder}
   * is creating for the job under {@code bindings} (its keys there) are let finish first, so the
   * pods deleted include all of them; the binder then forgets those keys.
   */
  public DeleteControl cleanup(
      SelectedNamespaces scope,
      J job,
      GroupBinder binder,
      List<String> bindings,
      Consumer<J> releaseDeleted) {
    if (!scope.manages(job.getMetadata().getNamespace())) {
      return DeleteControl.noFinalizerRemoval(); // its own install cleans it up
    }
    if (bindings.stream().anyMatch(binder::busy)) {
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(BINDING_RECHECK.toMillis());
    }
    // Metered first, as every other deletion of a job's pods is: a gang or group the leader that
    // created it died before listing in status, the job deleted before the next leader looked,
    // would otherwise go unmetered; and a leader killed right after the delete leaves nothing for
    // the next one to meter. A failed write throws: the cleanup is retried, nothing deleted yet.
    beforeDeleting.accept(job, cluster.pods().ownedBy(job.getMetadata().getUid()));
    cluster
        .workloads()
        .deleteAll(job.getMetadata().getNamespace(), kind, job.getMetadata().getName());
    releaseDeleted.accept(job);
    bindings.forEach(binder::forget);
    LOG.infof("%s deleted: pods removed, GPUs released", JobLoop.ref(job));
    return DeleteControl.defaultDelete();
  }
}
