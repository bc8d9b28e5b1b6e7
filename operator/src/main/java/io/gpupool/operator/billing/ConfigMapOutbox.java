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
 * The settlement outbox on ConfigMaps {@code gpupool-settlement-nonce-<n>}, one per signed
 * transaction not yet confirmed, read from the API server itself (not a cache): a new leader must
 * see what the previous one persisted just before it stopped. One ConfigMap per nonce keeps each
 * far below the size limit whatever the batch size.
 */
final class ConfigMapOutbox {
  /** Label value ({@link ConfigMapBillingStore#USAGE_LABEL}) of the outbox's ConfigMaps. */
  static final String LABEL_VALUE = "outbox";

  private static final String PREFIX = "gpupool-settlement-nonce-";
  private static final String KEY = "transaction";

  private final KubernetesClient client;
  private final String namespace;

  ConfigMapOutbox(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Every persisted entry, by nonce. */
  List<OutboxEntry> entries() {
    List<OutboxEntry> out = new ArrayList<>();
    for (ConfigMap cm :
        client
            .configMaps()
            .inNamespace(namespace)
            .withLabel(ConfigMapBillingStore.USAGE_LABEL, LABEL_VALUE)
            .list()
            .getItems()) {
      String json = cm.getData() == null ? null : cm.getData().get(KEY);
      if (json != null) {
        out.add(UsageCodec.decodeOutbox(json));
      }
    }
    out.sort(Comparator.comparingLong(OutboxEntry::nonce));
    return out;
  }

  /** Creates or replaces the entry of {@code entry}'s nonce. */
  void put(OutboxEntry entry) {
    String name = PREFIX + entry.nonce();
    Map<String, String> data = Map.of(KEY, UsageCodec.encode(entry));
    for (int attempt = 0; attempt < ConfigMapBillingStore.MAX_ATTEMPTS; attempt++) {
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
                      .addToLabels(ConfigMapBillingStore.USAGE_LABEL, LABEL_VALUE)
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

  void remove(long nonce) {
    client.configMaps().inNamespace(namespace).withName(PREFIX + nonce).delete();
  }
}
