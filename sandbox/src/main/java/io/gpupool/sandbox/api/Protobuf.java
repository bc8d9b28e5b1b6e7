package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Decodes the few Kubernetes protobuf bodies kubectl's imperative commands send ({@code kubectl
 * create namespace|configmap|secret|serviceaccount}, the DeleteOptions of {@code kubectl drain})
 * into JSON. Everything else is refused by the caller (415), because decoding arbitrary types would
 * need all of Kubernetes' .proto files.
 */
final class Protobuf {
  private static final byte[] MAGIC = {'k', '8', 's', 0};

  private Protobuf() {}

  /** The object as JSON, or null when the body is not a supported protobuf object. */
  static ObjectNode decode(byte[] body) {
    if (body.length < 4) {
      return null;
    }
    for (int i = 0; i < 4; i++) {
      if (body[i] != MAGIC[i]) {
        return null;
      }
    }
    Reader unknown = new Reader(body, 4, body.length);
    String apiVersion = null;
    String kind = null;
    byte[] raw = null;
    while (unknown.more()) {
      int tag = unknown.varint32();
      if (tag >>> 3 == 1 && (tag & 7) == 2) {
        Reader typeMeta = unknown.message();
        while (typeMeta.more()) {
          int t = typeMeta.varint32();
          if (t >>> 3 == 1) {
            apiVersion = typeMeta.string();
          } else if (t >>> 3 == 2) {
            kind = typeMeta.string();
          } else {
            typeMeta.skip(t);
          }
        }
      } else if (tag >>> 3 == 2 && (tag & 7) == 2) {
        raw = unknown.bytes();
      } else {
        unknown.skip(tag);
      }
    }
    if (kind == null || raw == null) {
      return null;
    }
    ObjectNode out = Json.object().put("apiVersion", apiVersion).put("kind", kind);
    Reader r = new Reader(raw, 0, raw.length);
    if (kind.equals("DeleteOptions")) {
      // kubectl drain sends these with DELETE: only the propagation matters here
      while (r.more()) {
        int tag = r.varint32();
        if (tag >>> 3 == 4) {
          out.put("propagationPolicy", r.string());
        } else if (tag >>> 3 == 3) {
          out.put("orphanDependents", r.varint() != 0);
        } else {
          r.skip(tag);
        }
      }
      return out;
    }
    if ((AccessReviews.GROUP + "/v1").equals(apiVersion)
        || (AccessReviews.AUTHENTICATION_GROUP + "/v1").equals(apiVersion)) {
      return review(kind, r, out);
    }
    if (!"v1".equals(apiVersion)) {
      return null;
    }
    switch (kind) {
      case "Namespace", "ServiceAccount" -> {
        while (r.more()) {
          int tag = r.varint32();
          if (tag >>> 3 == 1) {
            out.set("metadata", objectMeta(r.message()));
          } else {
            r.skip(tag);
          }
        }
      }
      case "ConfigMap", "Secret" -> {
        boolean secret = kind.equals("Secret");
        while (r.more()) {
          int tag = r.varint32();
          int field = tag >>> 3;
          if (field == 1) {
            out.set("metadata", objectMeta(r.message()));
          } else if (field == 2) {
            mapEntry(r.message(), Json.obj(out, "data"), secret);
          } else if (field == 3 && !secret) {
            mapEntry(r.message(), Json.obj(out, "binaryData"), true);
          } else if (field == 3) {
            out.put("type", r.string());
          } else if (field == 4 && secret) {
            mapEntry(r.message(), Json.obj(out, "stringData"), false);
          } else if ((field == 4 && !secret) || (field == 5 && secret)) {
            out.put("immutable", r.varint() != 0);
          } else {
            r.skip(tag);
          }
        }
      }
      default -> {
        return null;
      }
    }
    return out;
  }

  /**
   * The reviews {@code kubectl auth can-i} and {@code kubectl auth whoami} send (fields of
   * k8s.io/api/authorization/v1 generated.proto): metadata 1, spec 2; a SelfSubjectAccessReview's
   * spec holds resourceAttributes 1 (namespace 1, verb 2, group 3, version 4, resource 5,
   * subresource 6, name 7) or nonResourceAttributes 2 (path 1, verb 2); a SelfSubjectRulesReview's
   * spec its namespace 1.
   */
  private static ObjectNode review(String kind, Reader r, ObjectNode out) {
    if (!List.of("SelfSubjectAccessReview", "SelfSubjectRulesReview", "SelfSubjectReview")
        .contains(kind)) {
      return null;
    }
    ObjectNode spec = out.putObject("spec");
    while (r.more()) {
      int tag = r.varint32();
      if (tag >>> 3 == 1 && (tag & 7) == 2) {
        out.set("metadata", objectMeta(r.message()));
      } else if (tag >>> 3 == 2 && (tag & 7) == 2 && !kind.equals("SelfSubjectReview")) {
        Reader s = r.message();
        while (s.more()) {
          int t = s.varint32();
          if (kind.equals("SelfSubjectRulesReview") && t >>> 3 == 1) {
            spec.put("namespace", s.string());
          } else if (kind.equals("SelfSubjectAccessReview") && t >>> 3 == 1) {
            spec.set(
                "resourceAttributes",
                strings(
                    s.message(),
                    "namespace",
                    "verb",
                    "group",
                    "version",
                    "resource",
                    "subresource",
                    "name"));
          } else if (kind.equals("SelfSubjectAccessReview") && t >>> 3 == 2) {
            spec.set("nonResourceAttributes", strings(s.message(), "path", "verb"));
          } else {
            s.skip(t);
          }
        }
      } else {
        r.skip(tag);
      }
    }
    return out;
  }

  /** A message of string fields numbered 1.. in the order of {@code names}. */
  private static ObjectNode strings(Reader r, String... names) {
    ObjectNode out = Json.object();
    while (r.more()) {
      int tag = r.varint32();
      int field = tag >>> 3;
      if ((tag & 7) == 2 && field >= 1 && field <= names.length) {
        out.put(names[field - 1], r.string());
      } else {
        r.skip(tag);
      }
    }
    return out;
  }

  private static ObjectNode objectMeta(Reader r) {
    ObjectNode meta = Json.object();
    while (r.more()) {
      int tag = r.varint32();
      switch (tag >>> 3) {
        case 1 -> meta.put("name", r.string());
        case 2 -> meta.put("generateName", r.string());
        case 3 -> meta.put("namespace", r.string());
        case 11 -> mapEntry(r.message(), Json.obj(meta, "labels"), false);
        case 12 -> mapEntry(r.message(), Json.obj(meta, "annotations"), false);
        case 14 -> {
          ArrayNode finalizers =
              meta.has("finalizers")
                  ? (ArrayNode) meta.get("finalizers")
                  : meta.putArray("finalizers");
          finalizers.add(r.string());
        }
        default -> r.skip(tag);
      }
    }
    return meta;
  }

  private static void mapEntry(Reader entry, ObjectNode into, boolean bytesValue) {
    String key = null;
    byte[] value = new byte[0];
    while (entry.more()) {
      int tag = entry.varint32();
      if (tag >>> 3 == 1) {
        key = entry.string();
      } else if (tag >>> 3 == 2) {
        value = entry.bytes();
      } else {
        entry.skip(tag);
      }
    }
    if (key != null) {
      into.put(
          key,
          bytesValue
              ? Base64.getEncoder().encodeToString(value)
              : new String(value, StandardCharsets.UTF_8));
    }
  }

  /** A protobuf wire-format reader over {@code buf[pos, end)}. */
  static final class Reader {
    private final byte[] buf;
    private int pos;
    private final int end;

    Reader(byte[] buf, int pos, int end) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    long varint() {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new IllegalArgumentException("truncated varint");
        }
        byte b = buf[pos++];
        result |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new IllegalArgumentException("malformed varint");
    }

    int varint32() {
      return (int) varint();
    }

    byte[] bytes() {
      int len = varint32();
      if (len < 0 || pos + len > end) {
        throw new IllegalArgumentException("truncated field");
      }
      byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + len);
      pos += len;
      return out;
    }

    String string() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    Reader message() {
      int len = varint32();
      if (len < 0 || pos + len > end) {
        throw new IllegalArgumentException("truncated message");
      }
      Reader r = new Reader(buf, pos, pos + len);
      pos += len;
      return r;
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> bytes();
        case 5 -> pos += 4;
        default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7));
      }
    }
  }
}
