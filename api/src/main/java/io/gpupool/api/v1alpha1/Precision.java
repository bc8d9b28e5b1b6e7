package io.gpupool.api.v1alpha1;

/** Numeric precision of weights and activations; sets bytes per parameter in memory estimates. */
public enum Precision {
  fp32,
  bf16,
  fp16,
  fp8,
  int8,
  int4
}
