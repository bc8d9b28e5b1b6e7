package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** One serving replica and the shards it is made of. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ReplicaStatus {
  public Integer index;
  public Boolean ready;
  public Integer tensorParallelSize;
  public Integer pipelineParallelSize;
  public List<ShardPlacement> shards;

  /**
   * Hit when every shard found the weights on its node, Miss when one pulled them, else Pulling.
   */
  public String cache;
}
