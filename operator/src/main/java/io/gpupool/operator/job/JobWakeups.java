package io.gpupool.operator.job;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.metrics.JobMetrics;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Wake-ups of one job kind's controller, shared by both kinds: things that change nothing in the
 * job or its pods (GPUs freed, a node back, a stake read, an account bound, a metering) reach the
 * jobs they concern through an inbound event source, counted by cause.
 *
 * @param <J> the job resource
 */
public final class JobWakeups<J extends HasMetadata> {
  private final String kind;
  private final JobMetrics metrics;
  private final SimpleInboundEventSource<J> source;
  private volatile IndexerResourceCache<J> jobs;
  private volatile boolean running;
  private final List<Consumer<IndexerResourceCache<J>>> whenRunning = new CopyOnWriteArrayList<>();

  public JobWakeups(String kind, String sourceName, JobMetrics metrics) {
    this.kind = kind;
    this.metrics = metrics;
    this.source = new SimpleInboundEventSource<>(sourceName);
  }

  /** The event source to register with the controller; its job cache is read from here on. */
  public EventSource<?, J> eventSource(EventSourceContext<J> context) {
    this.jobs = context.getPrimaryCache();
    return source;
  }

  /**
   * The controller reconciles: its caches are running. Listeners (the meter, the ledger) may fire
   * before that, when the job cache cannot be listed yet and no job can need waking.
   */
  public void reconciling() {
    if (running) {
      return;
    }
    synchronized (this) {
      if (!running) {
        whenRunning.forEach(action -> action.accept(jobs));
        running = true;
      }
    }
  }

  /** Hands the controller's job cache to {@code action} once it runs (it cannot be read before). */
  public void whenRunning(Consumer<IndexerResourceCache<J>> action) {
    whenRunning.add(action);
  }

  /** Wakes one job. */
  public void wake(ResourceID job, String cause) {
    metrics.wakeup(kind, cause);
    source.propagateEvent(job);
  }

  /** Wakes one job named {@code namespace/name}, as admission names the jobs a round concerns. */
  public void wake(String namespacedName, String cause) {
    int slash = namespacedName.indexOf('/');
    wake(
        new ResourceID(namespacedName.substring(slash + 1), namespacedName.substring(0, slash)),
        cause);
  }

  /**
   * Wakes one job by name when it is of this controller's kind and the controller runs (before, no
   * job can need waking).
   */
  public void wakeIfRunning(String kind, String namespace, String name, String cause) {
    if (running && this.kind.equals(kind)) {
      wake(new ResourceID(name, namespace), cause);
    }
  }

  /** Wakes every job of the kind that {@code which} picks. */
  public void wakeWhere(String cause, Predicate<J> which) {
    IndexerResourceCache<J> cache = jobs;
    if (cache == null || !running) {
      return;
    }
    cache.list().filter(which).forEach(job -> wake(ResourceID.fromResource(job), cause));
  }

  /** Wakes every job of the kind. */
  public void wakeAll(String cause) {
    wakeWhere(cause, job -> true);
  }

  /**
   * Wakes the kind's jobs on what billing learns outside the cluster, and hands billing the job
   * cache once it runs (the meter finds a new pod's job there, not with a GET). {@code watchesCost}
   * picks the jobs a metering may take to their {@code spec.budget.maxCost}.
   */
  public void followBilling(BillingService billing, Predicate<J> watchesCost) {
    // A namespace may have been bound to, or unbound from, its account.
    billing.onAccountsChange(() -> wakeAll("account"));
    billing.afterMetering(() -> wakeWhere("metering", watchesCost));
    // A pod's end was metered: its job's usage changed, also when the job has finished already.
    billing.onPodEndMetered(
        job -> wakeIfRunning(job.kind(), job.namespace(), job.name(), "pod_end_metered"));
    whenRunning(cache -> billing.readJobsFrom(kind, cache));
  }
}
