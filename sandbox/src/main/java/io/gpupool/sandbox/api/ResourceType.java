package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One REST resource the sandbox API server serves: enough to answer discovery, route requests,
 * print tables and validate custom resources.
 *
 * @param schema the CRD's openAPIV3Schema, or null for built-in types
 */
public record ResourceType(
    String group,
    String version,
    String kind,
    String plural,
    String singular,
    boolean namespaced,
    List<String> shortNames,
    List<String> categories,
    boolean statusSubresource,
    List<PrinterColumn> printerColumns,
    JsonNode schema) {

  public static final List<String> VERBS =
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

  /** A CRD additionalPrinterColumn (or a built-in column). */
  public record PrinterColumn(
      String name, String type, String format, String description, int priority, String jsonPath) {}

  /** {@code apps/v1} or {@code v1} for the core group. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** {@code /api/v1} or {@code /apis/G/V}. */
  public String groupVersionPath() {
    return group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
  }

  /** The collection path, in a namespace when namespaced and ns is not null. */
  public String collectionPath(String namespace) {
    return groupVersionPath()
        + (namespaced && namespace != null ? "/namespaces/" + namespace : "")
        + "/"
        + plural;
  }

  /** {@code TrainingJob.gpupool.io} (or {@code Pod} for core), as the API server names a kind. */
  public String qualifiedKind() {
    return group.isEmpty() ? kind : kind + "." + group;
  }

  /** {@code trainingjobs.gpupool.io} (or {@code pods}), as the API server names a resource. */
  public String qualifiedResource() {
    return group.isEmpty() ? plural : plural + "." + group;
  }

  public boolean isCustom() {
    return schema != null;
  }
}
