/**
 * The {@code gpupool.io/v1alpha1} API: what ML engineers apply ({@link TrainingJob}, {@link
 * InferenceJob}) and what community contributors register ({@link GpuProvider}).
 *
 * <p>Validation lives in the schema (annotations here become the CRD in {@code crds/}); the
 * operator re-checks only what a schema cannot express.
 */
package io.gpupool.api.v1alpha1;
