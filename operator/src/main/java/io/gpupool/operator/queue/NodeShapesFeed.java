package io.gpupool.operator.queue;

import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.scheduler.queue.NodeShapes;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Collection;

/**
 * Tells admission the shapes of the pool's GPU nodes, so that a gang no node shape can hold is not
 * admitted on quota it could never use. Every GPU node counts, ready or not: a shape is what the
 * pool could ever hold, not what is free now.
 */
@ApplicationScoped
public class NodeShapesFeed {
  private final NodeInventory inventory;
  private final AdmissionController admission;

  public NodeShapesFeed(NodeInventory inventory, AdmissionController admission) {
    this.inventory = inventory;
    this.admission = admission;
  }

  void start(@Observes StartupEvent ignored) {
    admission.nodeShapes(() -> inventory.synced() ? of(inventory.nodes()) : null);
    inventory.onChange(node -> admission.nodesChanged());
  }

  /**
   * GPUs per node and product; a shared node counts its physical GPUs, as whole-GPU work sees it.
   */
  static NodeShapes of(Collection<GpuNode> nodes) {
    NodeShapes shapes = new NodeShapes();
    for (GpuNode n : nodes) {
      int gpus =
          n.shared()
              ? n.allocatableSlots() / n.replicasPerGpu()
              : Math.min(n.physicalGpus(), n.allocatableSlots());
      shapes.add(n.product(), gpus);
    }
    return shapes;
  }
}
