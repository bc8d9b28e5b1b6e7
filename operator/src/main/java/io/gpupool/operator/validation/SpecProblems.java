package io.gpupool.operator.validation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.ApiPatterns;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Collects what is wrong with a spec, each problem naming its field as the API server would ({@code
 * spec.parallelism.minWorkers: ...}).
 *
 * <p>The CRD schema and CEL rules refuse these already; the operator checks again because a cluster
 * may run without CEL (older Kubernetes) or a resource may predate a schema change, and a job the
 * operator misreads would be placed wrongly.
 */
public final class SpecProblems {
  private static final Pattern EVM_ADDRESS = Pattern.compile(ApiPatterns.EVM_ADDRESS);
  private static final Pattern DECIMAL = Pattern.compile(ApiPatterns.DECIMAL);
  private static final Pattern GPU_PRODUCT = Pattern.compile(ApiPatterns.GPU_PRODUCT);
  private static final Pattern PRICE = Pattern.compile(ApiPatterns.PRICE);
  private static final Pattern HTTP_PATH = Pattern.compile(ApiPatterns.HTTP_PATH);
  private static final Pattern JOB_NAME = Pattern.compile(ApiPatterns.JOB_NAME);

  private final List<String> problems = new ArrayList<>();

  public void add(String field, String message) {
    problems.add(field + ": " + message);
  }

  public boolean isEmpty() {
    return problems.isEmpty();
  }

  public List<String> list() {
    return List.copyOf(problems);
  }

  /** All problems on one line, for a condition message. */
  public String summary() {
    return String.join("; ", problems);
  }

  void requireText(String field, String value) {
    if (value == null || value.isBlank()) {
      add(field, "Required value");
    }
  }

  void checkRange(String field, Integer value, int min, int max) {
    if (value != null && (value < min || value > max)) {
      add(field, "Invalid value: " + value + ": must be between " + min + " and " + max);
    }
  }

  void checkModel(String field, ModelSpec model) {
    if (model == null) {
      return;
    }
    try {
      ParameterCount.parse(model.parameters);
    } catch (IllegalArgumentException e) {
      add(field + ".parameters", e.getMessage());
    }
    if (model.layers == null) {
      add(field + ".layers", "Required value");
    } else {
      checkRange(field + ".layers", model.layers, 1, 1000);
    }
  }

  void checkResources(String field, GpuRequirements resources) {
    if (resources == null) {
      return;
    }
    checkRange(field + ".minGpuMemoryMiB", resources.minGpuMemoryMiB, 1, 1 << 20);
    checkQuantity(field + ".cpu", resources.cpu);
    checkQuantity(field + ".memory", resources.memory);
    if (resources.gpuModels != null) {
      for (int i = 0; i < resources.gpuModels.size(); i++) {
        String model = resources.gpuModels.get(i);
        if (model == null || !GPU_PRODUCT.matcher(model).matches()) {
          add(
              field + ".gpuModels[" + i + "]",
              "Invalid value: \""
                  + model
                  + "\": expected a GFD product name such as NVIDIA-GeForce-RTX-4090");
        }
      }
    }
  }

  void checkPlacement(String field, PlacementPolicy placement) {
    if (placement == null) {
      return;
    }
    String price = placement.maxPricePerGpuHour;
    if (price != null && !PRICE.matcher(price).matches()) {
      add(
          field + ".maxPricePerGpuHour",
          "Invalid value: \"" + price + "\": expected a decimal below 1000000 such as 2.50");
    }
    if (placement.minReliability != null
        && (placement.minReliability < 0 || placement.minReliability > 1)) {
      add(
          field + ".minReliability",
          "Invalid value: " + placement.minReliability + ": must be between 0 and 1");
    }
  }

  void checkBudget(String field, Budget budget) {
    if (budget == null) {
      return;
    }
    if (budget.payer != null && !EVM_ADDRESS.matcher(budget.payer).matches()) {
      add(
          field + ".payer",
          "Invalid value: \"" + budget.payer + "\": expected 0x followed by 40 hex digits");
    }
    checkDecimal(field + ".maxCost", budget.maxCost);
  }

  /**
   * The job's name must suit the names derived from it: Services are named after it (a DNS-1035
   * label) and pod host names add up to 13 characters to it within the 63 a label allows.
   */
  void checkJobName(String name) {
    if (name == null) {
      return;
    }
    if (name.length() > ApiPatterns.JOB_NAME_MAX_LENGTH) {
      add(
          "metadata.name",
          "Too long: may not be more than "
              + ApiPatterns.JOB_NAME_MAX_LENGTH
              + " characters (pod host names add up to 13)");
    } else if (!JOB_NAME.matcher(name).matches()) {
      add(
          "metadata.name",
          "Invalid value: \""
              + name
              + "\": must be a DNS-1035 label (lower case letters, digits and '-', starting with a"
              + " letter)");
    }
  }

  void checkHttpPath(String field, String path) {
    if (path != null && (path.length() > 256 || !HTTP_PATH.matcher(path).matches())) {
      add(field, "Invalid value: \"" + path + "\": expected a path such as /metrics");
    }
  }

  private void checkDecimal(String field, String value) {
    if (value != null && !DECIMAL.matcher(value).matches()) {
      add(field, "Invalid value: \"" + value + "\": expected a decimal such as 2.50");
    }
  }

  private void checkQuantity(String field, String value) {
    if (value == null) {
      return;
    }
    try {
      if (Quantity.getAmountInBytes(new Quantity(value)).compareTo(BigDecimal.ZERO) <= 0) {
        add(field, "Invalid value: \"" + value + "\": must be positive");
      }
    } catch (IllegalArgumentException e) {
      add(field, "Invalid value: \"" + value + "\": not a Kubernetes quantity");
    }
  }
}
