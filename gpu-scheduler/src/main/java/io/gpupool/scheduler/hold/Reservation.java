package io.gpupool.scheduler.hold;

import java.util.Map;
import java.util.TreeMap;

/**
 * What is held for the head now.
 *
 * @param head the head's job id
 * @param target whole GPUs the head would take on each node once the jobs there end
 * @param held whole GPUs free now and held for it, by node (at most its target there)
 * @param shadowMillis when the target is expected to be free (epoch millis), {@code Long.MAX_VALUE}
 *     when a job running there has no known end
 */
public record Reservation(
    String head, Map<String, Integer> target, Map<String, Integer> held, long shadowMillis) {

  public Reservation {
    target = Map.copyOf(target);
    held = Map.copyOf(held);
  }

  public int targetGpus() {
    return target.values().stream().mapToInt(Integer::intValue).sum();
  }

  public int heldGpus() {
    return held.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** For status: "holds a reservation: 3 of 8 GPUs held on node-a (3/8); …". */
  public String describe() {
    StringBuilder s =
        new StringBuilder("holds a reservation: ")
            .append(heldGpus())
            .append(" of ")
            .append(targetGpus())
            .append(" GPUs held on ");
    String sep = "";
    for (var e : new TreeMap<>(target).entrySet()) {
      s.append(sep).append(e.getKey()).append(" (").append(held.getOrDefault(e.getKey(), 0));
      s.append('/').append(e.getValue()).append(')');
      sep = ", ";
    }
    s.append(
        shadowMillis == Long.MAX_VALUE
            ? "; other jobs wait for it there until it starts"
            : "; only jobs sure to end before it can start are placed there");
    return s.toString();
  }
}
