package io.gpupool.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A payer's escrow and the namespaces allowed to charge it. Platform admins create accounts; a job
 * may only be paid from an account its namespace is bound to.
 */
@Group(GpupoolApi.GROUP)
@Version(GpupoolApi.VERSION)
@ShortNames("ba")
@Categories(GpupoolApi.CATEGORY)
@AdditionalPrinterColumn(
    name = "Payer",
    jsonPath = ".spec.payer",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Escrow",
    jsonPath = ".status.escrow",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Committed",
    jsonPath = ".status.committed",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Spent",
    jsonPath = ".status.spent",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Period-Spent",
    jsonPath = ".status.spentThisPeriod",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Jobs",
    jsonPath = ".status.activeJobs",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class BillingAccount extends CustomResource<BillingAccountSpec, BillingAccountStatus> {}
