package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Closes the one gap JOSDK 5.2.1's cache leaves after our own status writes. {@link CachedStatus}
 * puts each written resource into the controller's cache, but that cache (its controller event
 * source compares resource versions for equality only) drops the entry on the next watch event of
 * the resource: after two writes in quick succession, the echo of the first evicts the second, and
 * the next reconcile would start from the first — placing a gang again, or restarting one twice.
 * (JOSDK 5.3 orders resource versions and keeps the entry; this operator is pinned to 5.2.1.)
 *
 * <p>Every write is locked to the version it was computed from, so each version a write superseded
 * is older than the written one. A reconcile handed one of those superseded versions gets the last
 * written resource instead; any other version (the written one delivered, or a newer one written by
 * someone else) ends the chain. Only equality of versions is used, as Kubernetes allows.
 *
 * @param <R> the resource
 */
public final class OwnWriteChain<R extends HasMetadata> {
  /** {@code owed}: {@code newest} is a decision whose write failed, not yet on the server. */
  private record Chain<R>(Set<String> superseded, R newest, boolean owed) {}

  private final Map<String, Chain<R>> chains = new ConcurrentHashMap<>();
  private final UnaryOperator<R> copy;

  /**
   * @param copy a deep copy (reconciles change the resource they are given)
   */
  public OwnWriteChain(UnaryOperator<R> copy) {
    this.copy = copy;
  }

  /**
   * The resource a reconcile should start from: {@code read}, or our later write of it.
   *
   * @param owed told whether that is a decision whose write failed: the caller must write it even
   *     if it decides nothing new, or the retry would take it for one already written
   */
  public R newest(R read, Consumer<Boolean> owed) {
    String uid = read.getMetadata().getUid();
    Chain<R> chain = chains.get(uid);
    if (chain != null && chain.superseded().contains(read.getMetadata().getResourceVersion())) {
      owed.accept(chain.owed());
      return copy.apply(chain.newest());
    }
    if (chain != null) {
      chains.remove(uid, chain);
    }
    owed.accept(false);
    return read;
  }

  /** Records a write: what the server stored and the versions it superseded. */
  public void wrote(Written<R> written) {
    R stored = written.stored();
    chains.compute(
        stored.getMetadata().getUid(),
        (uid, chain) -> {
          Set<String> superseded = new HashSet<>(chain == null ? Set.of() : chain.superseded());
          superseded.addAll(written.supersedes());
          return new Chain<>(Set.copyOf(superseded), copy.apply(stored), false);
        });
  }

  /**
   * Records a decision whose write failed (what it started — pods, reserved GPUs — has happened):
   * the retry, handed the same version again, starts from it and writes it.
   */
  public void owe(R decided) {
    String version = decided.getMetadata().getResourceVersion();
    chains.compute(
        decided.getMetadata().getUid(),
        (uid, chain) -> {
          Set<String> superseded = new HashSet<>(chain == null ? Set.of() : chain.superseded());
          superseded.add(version);
          return new Chain<>(Set.copyOf(superseded), copy.apply(decided), true);
        });
  }

  public void forget(R resource) {
    chains.remove(resource.getMetadata().getUid());
  }
}
