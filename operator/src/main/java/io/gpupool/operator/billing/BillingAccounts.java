package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.watch.SharedWatch;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The cluster's BillingAccounts and namespaces' labels, read from the shared watches, and the
 * {@link PayerAuthorization} decision for a job over them. Every reconcile asks again, so unbinding
 * a namespace (or deleting its account) is seen at the job's next reconcile.
 */
@ApplicationScoped
public class BillingAccounts {
  private static final KubernetesSerialization SPECS = new KubernetesSerialization();

  /** How long start-up waits for the first list of accounts and namespaces before it fails. */
  private static final Duration FIRST_LIST = Duration.ofSeconds(60);

  private final boolean requireBudget;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final SharedWatch<BillingAccount> accounts;
  private final SharedWatch<Namespace> namespaces;

  public BillingAccounts(ClusterWatches watches, GpupoolConfig config) {
    this.accounts = watches.billingAccounts();
    this.namespaces = watches.namespaces();
    this.requireBudget = config.billing().requireBudget();
  }

  void start(@Observes StartupEvent ignored) {
    accounts.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(BillingAccount a) {
            changed();
          }

          @Override
          public void onUpdate(BillingAccount old, BillingAccount a) {
            if (whoMayChargeWhomChanged(old, a, Instant.now())) {
              changed();
            }
          }

          @Override
          public void onDelete(BillingAccount a, boolean unknown) {
            changed();
          }
        });
    namespaces.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Namespace ns) {}

          @Override
          public void onUpdate(Namespace old, Namespace ns) {
            if (!Objects.equals(old.getMetadata().getLabels(), ns.getMetadata().getLabels())) {
              changed();
            }
          }

          @Override
          public void onDelete(Namespace ns, boolean unknown) {}
        });
    accounts.startAndWait(FIRST_LIST);
    namespaces.startAndWait(FIRST_LIST);
  }

  /**
   * True when an account update may change which jobs run: its spec changed (compared as JSON: the
   * spec classes have no equals, and every update arrives as a new copy, so comparing objects
   * called each of the operator's own spend writes a change and woke every job), or its spend
   * crossed the period's cap (which stops or frees its running jobs).
   */
  static boolean whoMayChargeWhomChanged(BillingAccount old, BillingAccount a, Instant now) {
    return !SPECS.asJson(old.getSpec()).equals(SPECS.asJson(a.getSpec()))
        || AccountLimits.periodCapReached(old, now) != AccountLimits.periodCapReached(a, now);
  }

  /**
   * Runs {@code listener} when an account or a namespace's labels change: who may charge whom may
   * have changed, so every job is reconciled again (accounts change rarely).
   */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  private void changed() {
    listeners.forEach(Runnable::run);
  }

  /** True once both watches hold the cluster's state. */
  public boolean synced() {
    return accounts.synced() && namespaces.synced();
  }

  /** With billing on, must a job have a payer ({@code gpupool.billing.require-budget})? */
  public boolean requireBudget() {
    return requireBudget;
  }

  /** Who pays for {@code job}, whose budget is {@code budget} (null: none). */
  public PayerAuthorization.Decision decide(HasMetadata job, Budget budget) {
    String namespace = job.getMetadata().getNamespace();
    return PayerAuthorization.decide(namespace, labels(namespace), budget, all(), requireBudget);
  }

  /** The accounts known now. */
  public List<BillingAccount> all() {
    return accounts.list();
  }

  private Map<String, String> labels(String namespace) {
    Namespace ns = namespaces.get(null, namespace).orElse(null);
    return ns == null || ns.getMetadata().getLabels() == null
        ? Map.of()
        : ns.getMetadata().getLabels();
  }
}
