package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.FlavorUsage;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import io.gpupool.api.v1alpha1.GpuQueueStatus;
import io.gpupool.scheduler.queue.QueueUsage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** A GpuQueue's status figures from the admission core's, flavors in the order of the spec. */
final class QueueStatusBuilder {
  private QueueStatusBuilder() {}

  static void fill(GpuQueueStatus status, GpuQueueSpec spec, QueueUsage usage) {
    Set<String> flavors = new LinkedHashSet<>();
    Map<String, Integer> nominal = new HashMap<>();
    if (spec != null && spec.quotas != null) {
      for (FlavorQuota q : spec.quotas) {
        flavors.add(q.name);
        nominal.put(q.name, q.nominal);
      }
    }
    Map<String, Integer> inUse = usage == null ? Map.of() : usage.inUse();
    Map<String, Integer> borrowed = usage == null ? Map.of() : usage.borrowed();
    flavors.addAll(inUse.keySet());
    status.flavors = new ArrayList<>();
    int totalInUse = 0;
    int totalBorrowed = 0;
    for (String f : flavors) {
      FlavorUsage fu = new FlavorUsage();
      fu.name = f;
      fu.nominal = nominal.getOrDefault(f, 0);
      fu.inUse = inUse.getOrDefault(f, 0);
      fu.borrowed = borrowed.getOrDefault(f, 0);
      totalInUse += fu.inUse;
      totalBorrowed += fu.borrowed;
      status.flavors.add(fu);
    }
    status.pendingWorkloads = usage == null ? 0 : usage.pending();
    status.admittedWorkloads = usage == null ? 0 : usage.admitted();
    status.gpusInUse = totalInUse;
    status.gpusBorrowed = totalBorrowed;
  }
}
