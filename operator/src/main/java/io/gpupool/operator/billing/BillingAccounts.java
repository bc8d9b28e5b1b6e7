package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.operator.config.GpupoolConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The cluster's BillingAccounts and namespaces' labels, kept by informers, and the {@link
 * PayerAuthorization} decision for a job over them. Every reconcile asks again, so unbinding a
 * namespace (or deleting its account) is seen at the job's next reconcile.
 */
@ApplicationScoped
public class BillingAccounts {
  private static final KubernetesSerialization SPECS = new KubernetesSerialization();
  private final KubernetesClient client;
  private final boolean requireBudget;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile SharedIndexInformer<BillingAccount> accounts;
  private volatile SharedIndexInformer<Namespace> namespaces;

  public BillingAccounts(KubernetesClient client, GpupoolConfig config) {
    this.client = client;
    this.requireBudget = config.billing().requireBudget();
  }

  void start(@Observes StartupEvent ignored) {
    accounts =
        client
            .resources(BillingAccount.class)
            .inform(
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
                },
                0);
    namespaces =
        client
            .namespaces()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Namespace ns) {}

                  @Override
                  public void onUpdate(Namespace old, Namespace ns) {
                    if (!Objects.equals(
                        old.getMetadata().getLabels(), ns.getMetadata().getLabels())) {
                      changed();
                    }
                  }

                  @Override
                  public void onDelete(Namespace ns, boolean unknown) {}
                },
                0);
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

  void stop(@Observes ShutdownEvent ignored) {
    if (accounts != null) {
      accounts.stop();
    }
    if (namespaces != null) {
      namespaces.stop();
    }
  }

  /** True once both informers hold the cluster's state. */
  public boolean synced() {
    return accounts != null && accounts.hasSynced() && namespaces != null && namespaces.hasSynced();
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
    return accounts == null ? List.of() : accounts.getStore().list();
  }

  private Map<String, String> labels(String namespace) {
    Namespace ns = namespaces == null ? null : namespaces.getStore().getByKey(namespace);
    return ns == null || ns.getMetadata().getLabels() == null
        ? Map.of()
        : ns.getMetadata().getLabels();
  }
}
