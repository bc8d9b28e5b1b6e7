package io.gpupool.billing.cli;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.ledger.OutboxEntry;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOutboxTest {
  @TempDir Path dir;

  final Instant t0 = Instant.parse("2026-12-06T10:00:00Z");

  OutboxEntry dispute(long nonce) {
    return OutboxEntry.signedCall(
        nonce,
        "0xaa" + nonce,
        "0xf86b" + nonce,
        BigInteger.valueOf(2_000_000_000L),
        "openDispute(x)",
        t0);
  }

  @Test
  void aNewProcessReadsEveryVersionOfEveryEntryBack() throws Exception {
    Path file = dir.resolve("sub/outbox.properties");
    FileOutbox first = new FileOutbox(file);
    first.putOutbox(dispute(7));
    OutboxEntry replaced =
        dispute(5)
            .sent()
            .replacedBy(
                "0xbb5", "0xf86c5", BigInteger.valueOf(2_250_000_000L), t0.plusSeconds(200));
    first.putOutbox(replaced);

    List<OutboxEntry> read = new FileOutbox(file).outbox();
    assertThat(read).containsExactly(replaced, dispute(7)); // by nonce
    assertThat(read.get(0).allHashes()).containsExactlyInAnyOrder("0xbb5", "0xaa5");

    new FileOutbox(file).removeOutbox(5);
    assertThat(new FileOutbox(file).outbox()).containsExactly(dispute(7));
    assertThat(dir.resolve("sub")).isDirectoryContaining(p -> p.equals(file));
    try (var files = Files.list(dir.resolve("sub"))) {
      assertThat(files.toList()).containsExactly(file); // no temporary file left behind
    }
  }

  @Test
  void noFileIsAnEmptyOutboxAndItHoldsNoUsage() {
    FileOutbox outbox = new FileOutbox(dir.resolve("none.properties"));
    assertThat(outbox.outbox()).isEmpty();
    assertThat(outbox.all()).isEmpty();
    OutboxEntry settlement =
        OutboxEntry.signed(
            1,
            "0xcc",
            "0xf8",
            BigInteger.ONE,
            List.of(new SettlementItem(pair("j1", PAYER_A, PROVIDER_X), BigInteger.TEN)),
            t0);
    assertThatThrownBy(() -> outbox.putOutbox(settlement))
        .hasMessageContaining("holds calls, not settlements");
    assertThatThrownBy(() -> outbox.update(pair("j1", PAYER_A, PROVIDER_X), l -> l))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aDamagedFileIsReportedByName() throws Exception {
    Path file = dir.resolve("damaged.properties");
    Files.writeString(file, "3.state=SENT\n");
    assertThatThrownBy(() -> new FileOutbox(file).outbox())
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is damaged")
        .hasMessageContaining("is missing");
    Files.writeString(file, "x.state=SENT\n");
    assertThatThrownBy(() -> new FileOutbox(file).outbox())
        .hasMessageContaining(file + " is damaged");
  }

  @Test
  void oneRunAtATimeHoldsAnOutbox() throws Exception {
    Path file = dir.resolve("held.properties");
    FileOutbox outbox = new FileOutbox(file);
    try (FileOutbox.Held held = outbox.lock()) {
      assertThatThrownBy(() -> new FileOutbox(file).lock())
          .hasMessageContaining("another gpupool chain run is using the outbox " + file);
      // Another process: a JVM that tries the same lock file exits 3 while this one holds it.
      assertThat(lockFromAnotherProcess(file)).isEqualTo(3);
    }
    assertThat(lockFromAnotherProcess(file)).isZero();
    try (FileOutbox.Held again = outbox.lock()) {
      assertThat(again).isNotNull(); // released on close: taken again
    }
  }

  /** Runs {@link LockProbe} in a new JVM: 0 when it got the lock, 3 when another holds it. */
  static int lockFromAnotherProcess(Path file) throws Exception {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                LockProbe.class.getName(),
                file.toString())
            .redirectErrorStream(true)
            .start();
    p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    return p.waitFor();
  }

  /** Takes and releases the outbox lock of the file named by its argument. */
  public static final class LockProbe {
    public static void main(String[] args) {
      try (FileOutbox.Held held = new FileOutbox(Path.of(args[0])).lock()) {
        System.exit(0);
      } catch (IllegalStateException e) {
        System.exit(3);
      }
    }
  }
}
