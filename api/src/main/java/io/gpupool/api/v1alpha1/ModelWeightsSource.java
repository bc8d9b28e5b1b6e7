package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Where a served model's weights come from, and whether each node keeps them in a local cache so
 * that later replicas on that node start without pulling them again.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ModelWeightsSource {
  @Required
  @Size(min = 4, max = 1024)
  @Pattern("^[a-z][a-z0-9+.-]*://[^\\s]+$")
  @JsonPropertyDescription(
      "The weights' location, e.g. hf://meta-llama/Llama-2-70b-chat-hf, s3://bucket/model/ or"
          + " https://host/model.tar; the fetch init container pulls it, and its SHA-256 names the"
          + " cache entry on each node.")
  public String uri;

  @Required
  @Min(1)
  @Max(100000)
  @JsonPropertyDescription(
      "Size of the weights in GiB: placement weighs a warm node by it, and an uncached volume is"
          + " sized by it.")
  public Integer sizeGiB;

  @Size(min = 2, max = 256)
  @Pattern("^/[^\\s]*$")
  @ValidationRule(
      value = "!self.startsWith('/dev/') && self != '/dev' && !self.startsWith('/proc')",
      message = "mountPath must not be under /dev or /proc",
      reason = "FieldValueForbidden")
  @Default("/mnt/models")
  @JsonPropertyDescription(
      "Where the server container sees the weights (read-only); also in GPUPOOL_WEIGHTS_DIR.")
  public String mountPath;

  @JsonPropertyDescription("Node-local cache of the weights.")
  public WeightsCache cache;

  /** True unless the cache is turned off: the weights live in a node-local hostPath directory. */
  public boolean cached() {
    return cache == null || !Boolean.FALSE.equals(cache.enabled);
  }
}
