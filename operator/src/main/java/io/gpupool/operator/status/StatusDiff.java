package io.gpupool.operator.status;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** Tells whether a status changed, so the operator writes status only when it did. */
public final class StatusDiff {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private StatusDiff() {}

  /** A deep copy of a status object, to compare against after a reconcile mutates it. */
  public static <T> T copy(T status, Class<T> type) {
    if (status == null) {
      return null;
    }
    return SERIALIZATION.unmarshal(SERIALIZATION.asJson(status), type);
  }

  /** A deep copy of a resource (of its own class). */
  @SuppressWarnings("unchecked")
  public static <T> T copy(T resource) {
    return resource == null ? null : copy(resource, (Class<T>) resource.getClass());
  }

  public static boolean changed(Object before, Object after) {
    return !SERIALIZATION.asJson(before).equals(SERIALIZATION.asJson(after));
  }
}
