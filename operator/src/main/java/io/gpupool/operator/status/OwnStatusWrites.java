package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Remembers the status this operator last wrote for each resource until the informer delivers a
 * newer copy. A reconcile that starts from the copy its own write replaced would act twice on the
 * same decision (create a gang again, restart a job that just failed) and then write the old status
 * back; {@link #overlay} gives it what it wrote instead.
 *
 * @param <R> the resource
 * @param <S> its status
 */
public final class OwnStatusWrites<R extends HasMetadata, S> {
  /** {@code owed}: the write failed, so the server has not seen this status yet. */
  private record Write<S>(String readVersion, S status, boolean owed) {}

  private final Map<String, Write<S>> writes = new ConcurrentHashMap<>();
  private final Class<S> statusType;
  private final Function<R, S> getter;
  private final BiConsumer<R, S> setter;

  public OwnStatusWrites(Class<S> statusType, Function<R, S> getter, BiConsumer<R, S> setter) {
    this.statusType = statusType;
    this.getter = getter;
    this.setter = setter;
  }

  /**
   * Replaces the resource's status by the one last written when the resource is still the very
   * version that write was based on; forgets the write once a newer version has arrived.
   *
   * @return true when the status put in place never reached the server ({@link #failed}): the
   *     caller must write it even if it decides nothing new, or the retry of a failed write would
   *     take the decision for one already written and never send it
   */
  public boolean overlay(R resource) {
    String uid = resource.getMetadata().getUid();
    Write<S> write = writes.get(uid);
    if (write == null) {
      return false;
    }
    if (Objects.equals(write.readVersion(), resource.getMetadata().getResourceVersion())) {
      setter.accept(resource, StatusDiff.copy(write.status(), statusType));
      return write.owed();
    }
    writes.remove(uid, write);
    return false;
  }

  /** Marks the last remembered write of {@code resource} as not having reached the server. */
  public void failed(R resource) {
    writes.computeIfPresent(
        resource.getMetadata().getUid(),
        (uid, w) -> new Write<>(w.readVersion(), w.status(), true));
  }

  /** Records the status about to be written, with the version it was computed from. */
  public void remember(R resource) {
    writes.put(
        resource.getMetadata().getUid(),
        new Write<>(
            resource.getMetadata().getResourceVersion(),
            StatusDiff.copy(getter.apply(resource), statusType),
            false));
  }

  public void forget(R resource) {
    writes.remove(resource.getMetadata().getUid());
  }
}
