package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.BillingAccountSpec;
import java.util.List;
import java.util.Locale;

/** BillingAccounts for the billing ITs: with billing on, a job's namespace must be bound. */
final class TestAccounts {
  private TestAccounts() {}

  /**
   * An account paying from {@code payer}, bound to {@code namespaces}; replaces one of that name.
   */
  static BillingAccount account(String name, String payer, String... namespaces) {
    BillingAccount a = new BillingAccount();
    a.setMetadata(new ObjectMetaBuilder().withName(name).build());
    a.setSpec(new BillingAccountSpec());
    a.getSpec().payer = payer;
    a.getSpec().namespaces = List.of(namespaces);
    return a;
  }

  /** Binds {@code namespace} to an account of its own paying from {@code payer}. */
  static void bindPayer(KubernetesClient client, String namespace, String payer) {
    String name = "payer-" + payer.substring(2, 14).toLowerCase(Locale.ROOT) + "-" + namespace;
    client.resource(account(name, payer, namespace)).createOr(existing -> existing.update());
  }
}
