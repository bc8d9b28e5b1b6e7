package io.gpupool.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A queue with GPU quotas that jobs are admitted through, in priority then arrival order; queues of
 * one cohort lend each other unused quota (Kueue's ClusterQueue).
 */
@Group(GpupoolApi.GROUP)
@Version(GpupoolApi.VERSION)
@ShortNames("gq")
@Categories(GpupoolApi.CATEGORY)
@AdditionalPrinterColumn(
    name = "Cohort",
    jsonPath = ".spec.cohort",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Pending",
    jsonPath = ".status.pendingWorkloads",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Admitted",
    jsonPath = ".status.admittedWorkloads",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".status.gpusInUse",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Borrowed",
    jsonPath = ".status.gpusBorrowed",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Strategy",
    jsonPath = ".spec.queueingStrategy",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuQueue extends CustomResource<GpuQueueSpec, GpuQueueStatus> {
  /** Namespace label naming the GpuQueue that jobs of the namespace go to by default. */
  public static final String NAMESPACE_LABEL = "gpupool.io/queue";
}
