package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PodLifetime;
import java.math.BigInteger;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UsageCodecTest {
  private static final PairId PAIR =
      new PairId(
          "6f1c0f3e-1111-4a4a-9b9b-000000000001",
          "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
          "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

  @Test
  void placementTermsRoundTrip() {
    PlacedTerms t =
        new PlacedTerms(
            "node-a", "prov-a", new PlacementTerms(new BigInteger("400000000000000000000"), 250));
    assertThat(UsageCodec.decodeTerms(UsageCodec.encode(t))).isEqualTo(t);
    assertThat(UsageCodec.termsKey("job-worker-0-r1")).isEqualTo("terms.job-worker-0-r1");
  }

  @Test
  void pairRoundTripsExactlyIncludingHugeAmountsAndInFlightTx() {
    BigInteger huge = new BigInteger("79228162514264337593543950335"); // 2^96 - 1
    PairLedger l =
        new PairLedger(
            PAIR, 123_456_789_012L, huge, BigInteger.TEN, BigInteger.valueOf(11), "0xabc");
    assertThat(UsageCodec.decodePair(UsageCodec.encode(l))).isEqualTo(l);
    PairLedger none = PairLedger.empty(PAIR);
    assertThat(UsageCodec.decodePair(UsageCodec.encode(none))).isEqualTo(none);
    PairLedger aside =
        l.withSetAside("rejected alone 3 times in a row: PartyIndexOutOfRange(9, 4)");
    assertThat(UsageCodec.decodePair(UsageCodec.encode(aside))).isEqualTo(aside);
  }

  @Test
  void aDisputeCallInTheOutboxRoundTrips() {
    OutboxEntry call =
        OutboxEntry.signedCall(
                7,
                "0x" + "ab".repeat(32),
                "0xf86b07",
                BigInteger.valueOf(1_125_000_000L),
                "openDispute(Pair(j, payer=0xa1, provider=0xb1), 5 wei)",
                Instant.parse("2026-01-01T10:00:00Z"))
            .sent();
    assertThat(UsageCodec.decodeOutbox(UsageCodec.encode(call))).isEqualTo(call);
    assertThat(UsageCodec.decodeOutbox(UsageCodec.encode(call)).isCall()).isTrue();
  }

  @Test
  void podRecordRoundTripsWithAndWithoutEnd() {
    PodLifetime ended =
        new PodLifetime(
            "pod-1",
            PAIR,
            Instant.parse("2026-01-01T10:00:00.123456789Z"),
            Instant.parse("2026-01-01T11:00:00Z"),
            333,
            new BigInteger("400000000000000000"));
    PodRecord r = new PodRecord(ended, "prov-a", "node-1", true);
    assertThat(UsageCodec.decodePod(UsageCodec.encode(r))).isEqualTo(r);
    PodLifetime open = new PodLifetime("pod-2", PAIR, ended.start(), null, 1000, BigInteger.ONE);
    PodRecord o = new PodRecord(open, "prov-a", "node-2", false);
    assertThat(UsageCodec.decodePod(UsageCodec.encode(o))).isEqualTo(o);
  }

  @Test
  void aPodRecordWrittenBeforeNodesWereRecordedMayHaveRunOnAnyNodeOfItsProvider() {
    PodLifetime open = new PodLifetime("pod-3", PAIR, Instant.EPOCH, null, 1000, BigInteger.ONE);
    String legacy = UsageCodec.encode(new PodRecord(open, "prov-a", null, false));
    assertThat(legacy).doesNotContain("node");
    PodRecord read = UsageCodec.decodePod(legacy);
    assertThat(read.node()).isNull();
    assertThat(read.mayHaveRunOn("prov-a", "node-9")).isTrue();
    assertThat(read.mayHaveRunOn("prov-b", "node-9")).isFalse();

    PodRecord placed = new PodRecord(open, "prov-a", "node-1", false);
    assertThat(placed.mayHaveRunOn("prov-a", "node-1")).isTrue();
    assertThat(placed.mayHaveRunOn("prov-a", "node-2")).isFalse();
  }

  @Test
  void keysAreValidConfigMapKeysAndDistinctPerPair() {
    String key = UsageCodec.pairKey(PAIR);
    assertThat(key).matches("[-._a-zA-Z0-9]+");
    PairId other = new PairId(PAIR.jobId(), PAIR.provider(), PAIR.payer());
    assertThat(UsageCodec.pairKey(other)).isNotEqualTo(key);
    assertThat(UsageCodec.podKey("0b6c-11")).isEqualTo("pod.0b6c-11");
  }

  @Test
  void damagedRecordsAreRefusedNotZeroed() {
    assertThatThrownBy(() -> UsageCodec.decodePair("{\"jobId\":\"j\"}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> UsageCodec.decodePair("not json"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
