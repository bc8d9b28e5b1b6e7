package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a GpuQueue; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuQueueStatus {
  public List<Condition> conditions = new ArrayList<>();
  public Long observedGeneration;
  public Integer pendingWorkloads;
  public Integer admittedWorkloads;
  public Integer gpusInUse;
  public Integer gpusBorrowed;
  public List<FlavorUsage> flavors;
}
