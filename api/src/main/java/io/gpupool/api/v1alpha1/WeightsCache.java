package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** Whether the weights are kept on each node for the replicas that come after. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class WeightsCache {
  @Default("true")
  @JsonPropertyDescription(
      "Keep the weights in a node-local directory (hostPath under the operator's cache root, keyed"
          + " by the URI's digest) and prefer nodes that already hold them; false pulls them into"
          + " an emptyDir for every replica.")
  public Boolean enabled;
}
