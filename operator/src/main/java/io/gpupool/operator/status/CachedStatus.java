package io.gpupool.operator.status;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a primary resource's status from its own reconcile through JOSDK's {@link
 * PrimaryUpdateAndCacheUtils}: the write is locked to the version the status was computed from, and
 * the server's answer goes into the controller's cache, so the next reconcile starts from it even
 * before the watch delivers it. A conflict (someone changed the resource meanwhile: a spec edit) is
 * retried by JOSDK on the newer cached copy with the same status, which only this reconciler
 * writes.
 *
 * <p>The write is {@link StatusReplace}'s whole-status JSON patch, led by a resourceVersion
 * precondition.
 */
public final class CachedStatus {
  private CachedStatus() {}

  /**
   * Writes {@code resource}'s status; empty when the resource was deleted meanwhile.
   *
   * @return the resource as stored, with the versions this write superseded
   */
  public static <S, T extends CustomResource<?, S>> Written<T> write(
      KubernetesClient client, Class<T> type, T resource, Context<T> context) {
    S status = resource.getStatus();
    List<String> basedOn = new ArrayList<>();
    try {
      T stored =
          PrimaryUpdateAndCacheUtils.updateAndCacheResource(
              resource,
              context,
              current -> {
                // Called again with a fresher copy after a conflict: the write then succeeds it.
                basedOn.add(current.getMetadata().getResourceVersion());
                current.setStatus(status);
                return current;
              },
              locked -> StatusReplace.writeLocked(client, type, locked, status));
      return new Written<>(stored, List.copyOf(basedOn));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }
}
