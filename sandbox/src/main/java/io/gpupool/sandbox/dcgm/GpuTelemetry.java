package io.gpupool.sandbox.dcgm;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Derives a GPU's readings from the simulated state: idle when no pod holds it, busy in proportion
 * to the slots its pods hold (a time-sliced GPU shared by two of four replicas is about half busy),
 * and dead with XID 79 on a node that carries the sandbox fault label. Each pod has a steady load
 * of its own (from its UID) with a slow wobble over time, so graphs move but tests can bound them.
 */
final class GpuTelemetry {
  /** XID 79: "GPU has fallen off the bus", what a GPU node that stopped answering often shows. */
  static final int XID_FALLEN_OFF_THE_BUS = 79;

  private static final double WOBBLE = 0.03;
  private static final Duration WOBBLE_PERIOD = Duration.ofSeconds(90);

  private GpuTelemetry() {}

  /** The stable UUID of GPU {@code index} of {@code node}. */
  static String uuid(String node, int index) {
    return "GPU-" + UUID.nameUUIDFromBytes((node + "/" + index).getBytes(StandardCharsets.UTF_8));
  }

  /** A pod's own steady load, 0.78..0.96, from its UID. */
  static double baseLoad(GpuClaim claim) {
    int h = Math.floorMod(claim.uid().hashCode(), 1000);
    return 0.78 + 0.18 * h / 999.0;
  }

  /** The pod's load at {@code now}: its base load and a slow wobble, within 0..1. */
  static double load(GpuClaim claim, Instant now) {
    double seconds = Duration.between(claim.startedAt(), now).toMillis() / 1000.0;
    double phase = Math.floorMod(claim.uid().hashCode(), 360) * Math.PI / 180;
    double wobble = WOBBLE * Math.sin(2 * Math.PI * seconds / WOBBLE_PERIOD.toSeconds() + phase);
    return Math.max(0, Math.min(1, baseLoad(claim) + wobble));
  }

  static GpuReading read(
      NodeGpus node, int index, List<SlotAssignments.Holding> holdings, Instant now) {
    GpuModels.Model model = GpuModels.of(node.product());
    double busy = 0;
    double memory = 0;
    double tensor = 0;
    for (SlotAssignments.Holding h : holdings) {
      double share = (double) h.slots() / node.replicas();
      busy += share * load(h.claim(), now);
      memory += share * (0.6 + 0.35 * baseLoad(h.claim()));
      tensor += share * 0.55 * load(h.claim(), now);
    }
    if (node.faulted()) {
      busy = 0;
      tensor = 0;
    }
    busy = Math.min(1, busy);
    long used = Math.min(node.memoryMiB(), Math.round(node.memoryMiB() * Math.min(1, memory)));
    double idlePower = Math.max(15, model.powerLimitWatts() * 0.07);
    double power = idlePower + (model.powerLimitWatts() * 0.92 - idlePower) * busy;
    int idleTemp = 33 + index % 3;
    return new GpuReading(
        node.node(),
        index,
        uuid(node.node(), index),
        "00000000:%02X:00.0".formatted(0x18 + 0x10 * index),
        model.nvmlName(),
        node.driverVersion(),
        holdings.isEmpty() ? null : holdings.get(0).claim(),
        (int) Math.round(100 * busy),
        (int) Math.round(45 * busy),
        used,
        node.memoryMiB() - used,
        idleTemp + (int) Math.round(45 * busy),
        Math.round(power * 1000) / 1000.0,
        busy > 0 ? model.maxSmClockMhz() : 210,
        node.faulted() ? XID_FALLEN_OFF_THE_BUS : 0,
        Math.round(busy * 0.97 * 1e6) / 1e6,
        Math.round(Math.min(1, tensor) * 1e6) / 1e6);
  }
}
