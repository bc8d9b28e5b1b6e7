package io.gpupool.scheduler.model;

/**
 * The model a job trains or serves, from which per-layer costs are estimated.
 *
 * <p>Estimates (dense transformer rules of thumb): forward FLOPs ≈ 2 × parameters × tokens,
 * training ≈ 6 × (forward + backward); weights take {@code precisionBytes} per parameter; training
 * state with Adam in mixed precision ≈ 16 bytes per parameter (weights, gradients, FP32 master copy
 * and two moments); activations crossing a stage boundary = sequence × hidden × precision per
 * sample; activations held per layer for the backward pass ≈ 16 × that.
 *
 * @param parameters total parameters
 * @param layers transformer layers (pipeline split units)
 * @param precisionBytes bytes per weight/activation value (2 for BF16/FP16)
 * @param hiddenSize hidden width; 0 = estimated as √(parameters / (12 × layers))
 * @param sequenceLength tokens per sample; 0 = 2048
 * @param batchSize global batch in samples per step; 0 = 32
 */
public record ModelSpec(
    long parameters,
    int layers,
    int precisionBytes,
    int hiddenSize,
    int sequenceLength,
    int batchSize) {

  /** Adam with mixed precision: bytes of training state per parameter. */
  public static final double TRAINING_BYTES_PER_PARAM = 16;

  public ModelSpec {
    if (parameters <= 0 || layers <= 0 || precisionBytes <= 0) {
      throw new IllegalArgumentException("parameters, layers and precision must be positive");
    }
    if (hiddenSize < 0 || sequenceLength < 0 || batchSize < 0) {
      throw new IllegalArgumentException("sizes must be >= 0");
    }
  }

  /** A BF16 model with default sequence and batch. */
  public static ModelSpec of(long parameters, int layers) {
    return new ModelSpec(parameters, layers, 2, 0, 0, 0);
  }

  public int hidden() {
    return hiddenSize > 0
        ? hiddenSize
        : (int) Math.max(1, Math.round(Math.sqrt(parameters / (12.0 * layers))));
  }

  public int sequence() {
    return sequenceLength > 0 ? sequenceLength : 2048;
  }

  public int batch() {
    return batchSize > 0 ? batchSize : 32;
  }

  public double parametersPerLayer() {
    return (double) parameters / layers;
  }

  /** FLOPs of one layer for one sample (training: forward + backward). */
  public double layerFlopsPerSample(JobKind kind) {
    double factor = kind == JobKind.TRAINING ? 6 : 2;
    return factor * parametersPerLayer() * sequence();
  }

  /** FLOPs of a whole step (training) or of one batch (inference). */
  public double stepFlops(JobKind kind) {
    return layerFlopsPerSample(kind) * layers * batch();
  }

  /** Bytes a layer's parameters (and, for training, gradients and optimizer state) occupy. */
  public double layerStateBytes(JobKind kind) {
    double perParam = kind == JobKind.TRAINING ? TRAINING_BYTES_PER_PARAM : precisionBytes;
    return perParam * parametersPerLayer();
  }

  /** Bytes of all parameters (and training state). */
  public double stateBytes(JobKind kind) {
    return layerStateBytes(kind) * layers;
  }

  /** Bytes crossing a pipeline stage boundary per sample. */
  public double boundaryActivationBytesPerSample() {
    return (double) sequence() * hidden() * precisionBytes;
  }

  /** Activation bytes a layer holds per sample in flight. */
  public double layerActivationBytesPerSample(JobKind kind) {
    return boundaryActivationBytesPerSample() * (kind == JobKind.TRAINING ? 16 : 2);
  }

  /** Bytes of gradients exchanged by data-parallel all-reduce per step. */
  public double gradientBytes() {
    return (double) parameters * precisionBytes;
  }
}
