package io.gpupool.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A distributed training job placed as one gang over heterogeneous community GPUs. */
@Group(GpupoolApi.GROUP)
@Version(GpupoolApi.VERSION)
@ShortNames("tj")
@Categories(GpupoolApi.CATEGORY)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Strategy",
    jsonPath = ".status.plan.strategy",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".status.plan.totalGpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Cost",
    jsonPath = ".status.usage.costDisplay",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Queue",
    jsonPath = ".status.queue.name",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Position",
    jsonPath = ".status.queue.position",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Restarts",
    jsonPath = ".status.restarts",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class TrainingJob extends CustomResource<TrainingJobSpec, TrainingJobStatus>
    implements Namespaced {}
