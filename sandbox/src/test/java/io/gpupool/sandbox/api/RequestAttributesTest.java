package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestAttributesTest {
  private static ApiCall call(String method, String uri) {
    return RequestAttributes.resolve("agent", method, uri).orElseThrow();
  }

  @Test
  void verbsFollowTheApiServersRules() {
    assertThat(call("GET", "/api/v1/namespaces/ml/pods/p-0"))
        .isEqualTo(new ApiCall("agent", "", "pods", "get", "ml", "p-0"));
    assertThat(call("GET", "/api/v1/pods?labelSelector=a%3Db").verb()).isEqualTo("list");
    assertThat(call("GET", "/api/v1/pods?watch=true&resourceVersion=5"))
        .isEqualTo(new ApiCall("agent", "", "pods", "watch", null, null));
    assertThat(call("POST", "/api/v1/namespaces/ml/events").verb()).isEqualTo("create");
    assertThat(call("PUT", "/apis/coordination.k8s.io/v1/namespaces/x/leases/l"))
        .isEqualTo(new ApiCall("agent", "coordination.k8s.io", "leases", "update", "x", "l"));
    assertThat(call("PATCH", "/apis/gpupool.io/v1alpha1/namespaces/ml/trainingjobs/t/status"))
        .isEqualTo(new ApiCall("agent", "gpupool.io", "trainingjobs/status", "patch", "ml", "t"));
    assertThat(call("DELETE", "/api/v1/namespaces/ml/pods/p").verb()).isEqualTo("delete");
    assertThat(call("DELETE", "/api/v1/namespaces/ml/pods?labelSelector=x").verb())
        .isEqualTo("deletecollection");
  }

  @Test
  void clusterScopedResourcesAndNamespacesHaveNoNamespace() {
    assertThat(call("GET", "/api/v1/nodes/n1"))
        .isEqualTo(new ApiCall("agent", "", "nodes", "get", null, "n1"));
    assertThat(call("GET", "/api/v1/namespaces/ml"))
        .isEqualTo(new ApiCall("agent", "", "namespaces", "get", null, "ml"));
    assertThat(call("GET", "/apis/gpupool.io/v1alpha1/gpuproviders?watch=1").namespaced())
        .isFalse();
  }

  @Test
  void discoveryAndOtherNonResourcePathsAreNotResourceCalls() {
    for (String uri :
        new String[] {
          "/version", "/api", "/api/v1", "/apis", "/apis/gpupool.io/v1alpha1", "/openapi/v3"
        }) {
      assertThat(RequestAttributes.resolve("agent", "GET", uri)).as(uri).isEmpty();
    }
  }
}
