package io.gpupool.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolGeneratorTest {
  @Test
  void aGeneratedPoolHasExactlyTheNodesAskedForAndIsAValidPoolFile() {
    for (int nodes : new int[] {7, 100, 5000}) {
      PoolSpec pool = PoolGenerator.generate(nodes);
      assertThat(pool.nodeGroups().stream().mapToInt(PoolSpec.NodeGroup::count).sum())
          .as("nodes of a %d-node pool", nodes)
          .isEqualTo(nodes);
      // PoolFile.parse validates: names, addresses, providers of every group, prices.
      assertThat(PoolFile.parse(Serialization.asYaml(pool))).isEqualTo(pool);
    }
    assertThat(PoolGenerator.generate(5000)).isEqualTo(PoolGenerator.generate(5000));
  }

  @Test
  void consumerCardsAreMostMachinesAndDataCentreGpusMostGpus() {
    PoolSpec pool = PoolGenerator.generate(5000);
    int consumerNodes =
        pool.nodeGroups().stream()
            .filter(g -> PoolGenerator.flavorOf(g.gpu().product()).equals(PoolGenerator.CONSUMER))
            .mapToInt(PoolSpec.NodeGroup::count)
            .sum();
    assertThat(consumerNodes).isGreaterThan(2500);
    Map<String, Integer> gpus = PoolGenerator.gpusByFlavor(pool);
    assertThat(gpus.get(PoolGenerator.DATACENTER))
        .isGreaterThan(gpus.get(PoolGenerator.WORKSTATION))
        .isGreaterThan(gpus.get(PoolGenerator.CONSUMER));
    assertThat(gpus.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(19_000);
  }

  @Test
  void benchJobsAskForWorkersThatFitOneNodeOfTheirFlavor() {
    var r = new java.util.Random(16);
    for (int i = 0; i < 500; i++) {
      String text = QueueLoadBench.job(i, r);
      var job = Serialization.unmarshal(text, io.gpupool.api.v1alpha1.TrainingJob.class);
      int perWorker = job.getSpec().parallelism.gpusPerWorker;
      String flavor = PoolGenerator.flavorOf(job.getSpec().resources.gpuModels.get(0));
      assertThat(perWorker).isLessThanOrEqualTo(PoolGenerator.maxPerNode(flavor));
      assertThat(job.getSpec().parallelism.workers * perWorker).isIn(1, 2, 4, 8, 16);
    }
  }
}
