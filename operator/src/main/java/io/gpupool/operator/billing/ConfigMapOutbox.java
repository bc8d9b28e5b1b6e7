package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.billing.ledger.OutboxEntry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The settlement outbox of {@link ConfigMapBillingStore}: signed transactions not yet confirmed,
 * one ConfigMap per in-flight nonce ({@code gpupool-settlement-nonce-<n>}) in the usage namespace.
 */
final class ConfigMapOutbox {
  private static final String OUTBOX_PREFIX = "gpupool-settlement-nonce-";
  private static final String OUTBOX_KEY = "transaction";
  private static final int MAX_ATTEMPTS = 20;

  private final KubernetesClient client;
  private final String namespace;

  ConfigMapOutbox(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /**
   * The settlement outbox, read from the API server (not a cache): a new leader must see what the
   * previous one persisted just before it stopped. One ConfigMap per in-flight nonce keeps each far
   * below the size limit whatever the batch size.
   */
  List<OutboxEntry> entries() {
    List<OutboxEntry> out = new ArrayList<>();
    for (ConfigMap cm :
        client
            .configMaps()
            .inNamespace(namespace)
            .withLabel(ConfigMapBillingStore.USAGE_LABEL, ConfigMapBillingStore.OUTBOX_VALUE)
            .list()
            .getItems()) {
      String json = cm.getData() == null ? null : cm.getData().get(OUTBOX_KEY);
      if (json != null) {
        out.add(UsageCodec.decodeOutbox(json));
      }
    }
    out.sort(Comparator.comparingLong(OutboxEntry::nonce));
    return out;
  }

  synchronized void put(OutboxEntry entry) {
    String name = OUTBOX_PREFIX + entry.nonce();
    Map<String, String> data = Map.of(OUTBOX_KEY, UsageCodec.encode(entry));
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      ConfigMap current = client.configMaps().inNamespace(namespace).withName(name).get();
      try {
        if (current == null) {
          client
              .configMaps()
              .inNamespace(namespace)
              .resource(
                  new ConfigMapBuilder()
                      .withNewMetadata()
                      .withName(name)
                      .withNamespace(namespace)
                      .addToLabels(
                          ConfigMapBillingStore.USAGE_LABEL, ConfigMapBillingStore.OUTBOX_VALUE)
                      .addToLabels("app.kubernetes.io/managed-by", "gpupool-operator")
                      .endMetadata()
                      .withData(data)
                      .build())
              .create();
        } else {
          client
              .configMaps()
              .inNamespace(namespace)
              .resource(new ConfigMapBuilder(current).withData(data).build())
              .update();
        }
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
      }
    }
    throw new IllegalStateException(
        "outbox ConfigMap " + namespace + "/" + name + ": too many conflicting writes");
  }

  synchronized void remove(long nonce) {
    client.configMaps().inNamespace(namespace).withName(OUTBOX_PREFIX + nonce).delete();
  }
}
