package io.gpupool.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A community GPU contributor; its nodes carry the label {@code gpupool.io/provider=<name>}. */
@ValidationRule(
    value = "self.metadata.name.size() <= 63",
    message =
        "metadata.name must be at most 63 characters: nodes and pods carry it as the value of the"
            + " label gpupool.io/provider",
    fieldPath = ".metadata.name",
    reason = "FieldValueTooLong")
@Group(GpupoolApi.GROUP)
@Version(GpupoolApi.VERSION)
@ShortNames("gp")
@Categories(GpupoolApi.CATEGORY)
@AdditionalPrinterColumn(
    name = "Region",
    jsonPath = ".spec.region",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Nodes",
    jsonPath = ".status.readyNodes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".status.totalGpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Reliability",
    jsonPath = ".status.reliability.score",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Earnings",
    jsonPath = ".status.earnings.settled",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Stake",
    jsonPath = ".status.stake.staked",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuProvider extends CustomResource<GpuProviderSpec, GpuProviderStatus> {}
