package io.gpupool.billing.cli;

import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The {@code ./gpupool chain} tool's outbox: the transactions it signed with a key and has not yet
 * seen confirmed, in a properties file, so a run that ends before its transaction is mined (killed,
 * timed out, node dropped it) leaves the nonce, the raw bytes and every hash behind and the next
 * run re-broadcasts or replaces them instead of losing them. Holds calls only (no usage pairs).
 * Every write replaces the file atomically.
 */
final class FileOutbox implements BillingStore {

  private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

  private final Path file;

  /** The outbox held by this run, until closed. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  FileOutbox(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /**
   * Hold the outbox for this run: two runs with the same file would each sign above the nonces they
   * read, sign the same nonce, and the second entry would overwrite the first in the file, losing
   * its transaction. The lock is a sidecar file's OS lock, released when the returned handle is
   * closed or the process ends.
   *
   * @throws IllegalStateException when another run holds it
   */
  Held lock() {
    Path lockFile = file.resolveSibling(file.getFileName() + ".lock").toAbsolutePath().normalize();
    // Within one JVM the OS lock cannot tell two holders apart, and closing a second channel on
    // the file would release the first one's lock: this process's holders are counted here.
    if (!HELD_HERE.add(lockFile)) {
      throw busy();
    }
    try {
      Files.createDirectories(lockFile.getParent());
      FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
        throw busy();
      }
      return () -> {
        try {
          lock.release();
          channel.close();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot release the outbox lock of " + file, e);
        } finally {
          HELD_HERE.remove(lockFile);
        }
      };
    } catch (IOException e) {
      HELD_HERE.remove(lockFile);
      throw new UncheckedIOException("cannot lock the outbox " + file, e);
    } catch (RuntimeException e) {
      HELD_HERE.remove(lockFile);
      throw e;
    }
  }

  private IllegalStateException busy() {
    return new IllegalStateException(
        "another gpupool chain run is using the outbox "
            + file
            + "; wait for it to end (or give this run another --outbox)");
  }

  @Override
  public Optional<PairLedger> get(PairId pair) {
    return Optional.empty();
  }

  @Override
  public List<PairLedger> all() {
    return List.of();
  }

  @Override
  public PairLedger update(PairId pair, UnaryOperator<PairLedger> change) {
    throw new UnsupportedOperationException("the chain tool's outbox holds calls, not usage");
  }

  @Override
  public synchronized List<OutboxEntry> outbox() {
    Properties p = load();
    TreeSet<Long> nonces = new TreeSet<>();
    List<OutboxEntry> entries = new ArrayList<>();
    try {
      for (String k : p.stringPropertyNames()) {
        nonces.add(Long.parseLong(k.substring(0, Math.max(0, k.indexOf('.')))));
      }
      for (long n : nonces) {
        entries.add(read(p, n));
      }
    } catch (IllegalArgumentException e) { // a key or value that is not ours
      throw new IllegalStateException(file + " is damaged: " + e.getMessage(), e);
    }
    entries.sort(Comparator.comparingLong(OutboxEntry::nonce));
    return entries;
  }

  @Override
  public synchronized void putOutbox(OutboxEntry e) {
    if (!e.items().isEmpty()) {
      throw new IllegalArgumentException("the chain tool's outbox holds calls, not settlements");
    }
    Properties p = load();
    removeFrom(p, e.nonce());
    String n = e.nonce() + ".";
    p.setProperty(n + "state", e.state().name());
    p.setProperty(n + "txHash", e.txHash());
    p.setProperty(n + "rawTx", e.rawTx());
    p.setProperty(n + "gasPriceWei", e.gasPriceWei().toString());
    p.setProperty(n + "attempt", Integer.toString(e.attempt()));
    p.setProperty(n + "earlierHashes", String.join(",", e.earlierHashes()));
    p.setProperty(n + "createdAt", e.createdAt().toString());
    p.setProperty(n + "sentAt", e.sentAt().toString());
    p.setProperty(n + "call", e.call() == null ? "" : e.call());
    store(p);
  }

  @Override
  public synchronized void removeOutbox(long nonce) {
    Properties p = load();
    removeFrom(p, nonce);
    store(p);
  }

  private static void removeFrom(Properties p, long nonce) {
    p.stringPropertyNames().stream().filter(k -> k.startsWith(nonce + ".")).forEach(p::remove);
  }

  private OutboxEntry read(Properties p, long nonce) {
    String n = nonce + ".";
    String earlier = value(p, n + "earlierHashes");
    String call = value(p, n + "call");
    return new OutboxEntry(
        nonce,
        OutboxEntry.State.valueOf(value(p, n + "state")),
        value(p, n + "txHash"),
        value(p, n + "rawTx"),
        new BigInteger(value(p, n + "gasPriceWei")),
        Integer.parseInt(value(p, n + "attempt")),
        earlier.isEmpty() ? List.of() : Arrays.asList(earlier.split(",")),
        List.of(),
        Instant.parse(value(p, n + "createdAt")),
        Instant.parse(value(p, n + "sentAt")),
        call.isEmpty() ? null : call);
  }

  private String value(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IllegalStateException(file + " is damaged: " + key + " is missing");
    }
    return v;
  }

  private Properties load() {
    Properties p = new Properties();
    if (!Files.exists(file)) {
      return p;
    }
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the outbox " + file, e);
    }
    return p;
  }

  private void store(Properties p) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(w, "gpupool chain: transactions signed and not yet confirmed; do not edit");
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the outbox " + file, e);
    }
  }
}
