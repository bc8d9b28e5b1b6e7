package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.sandbox.api.SandboxApiServer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** The real kubectl against the sandbox API server. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubectlIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  private static SandboxApiServer server;
  private static Kubectl kubectl;
  private static Path widgetCrd;

  @BeforeAll
  static void start() throws IOException, URISyntaxException {
    server = new SandboxApiServer();
    server.start(0);
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, Sandbox.kubeconfigYaml(server.url()));
    kubectl = new Kubectl(kubeconfig, dir.resolve("cache"));
    widgetCrd = Path.of(KubectlIT.class.getResource("/crds/widgets.test.gpupool.io.yaml").toURI());
    kubectl.run("apply", "-f", widgetCrd.toString()).ok();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static String widget(String name, String spec) {
    return """
        apiVersion: test.gpupool.io/v1
        kind: Widget
        metadata:
          name: %s
        spec:
        %s
        """
        .formatted(name, spec.indent(2));
  }

  @Test
  @Order(1)
  void discoveryServesBuiltInsAndCrds() {
    assertThat(kubectl.run("version", "-o", "json").ok().out()).contains("\"minor\": \"32\"");
    String resources = kubectl.run("api-resources").ok().out();
    assertThat(resources)
        .contains("pods", "deployments", "leases", "customresourcedefinitions", "events");
    assertThat(kubectl.run("api-resources", "--api-group=test.gpupool.io").ok().out())
        .containsPattern("widgets\\s+wd\\s+test.gpupool.io/v1\\s+true\\s+Widget");
    assertThat(kubectl.run("get", "crd").ok().out()).contains("widgets.test.gpupool.io");
  }

  @Test
  @Order(2)
  void customResourceApplyGetDescribeLabelAnnotatePatchDelete() {
    assertThat(
            kubectl
                .runWithInput(
                    widget("w1", "size: 3\nowner: \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\""),
                    "apply",
                    "-f",
                    "-")
                .ok()
                .out())
        .contains("widget.test.gpupool.io/w1 created");
    assertThat(
            kubectl
                .runWithInput(
                    widget("w1", "size: 3\nowner: \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\""),
                    "apply",
                    "-f",
                    "-")
                .ok()
                .out())
        .contains("unchanged");

    String table = kubectl.run("get", "wd").ok().out();
    assertThat(table.lines().findFirst().orElseThrow())
        .containsPattern("NAME\\s+SIZE\\s+COLOUR\\s+PHASE\\s+READY\\s+AGE");
    assertThat(table).containsPattern("w1\\s+3\\s+green");
    assertThat(kubectl.run("get", "wd", "-o", "wide").ok().out())
        .contains("OWNER")
        .contains("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assertThat(kubectl.run("get", "gadgets").ok().out()).containsPattern("w1\\s+3\\s+green");

    assertThat(kubectl.run("describe", "widget", "w1").ok().out())
        .contains("Name:         w1")
        .containsPattern("Size:\\s+3");

    kubectl.run("label", "wd", "w1", "team=ml").ok();
    assertThat(kubectl.run("get", "wd", "-l", "team=ml", "-o", "name").ok().out())
        .contains("widget.test.gpupool.io/w1");
    kubectl.run("label", "wd", "w1", "team-").ok();
    assertThat(kubectl.run("get", "wd", "-l", "team=ml", "-o", "name").ok().out()).isBlank();
    kubectl.run("annotate", "wd", "w1", "note=hello").ok();
    assertThat(
            kubectl
                .run("get", "wd", "w1", "-o", "jsonpath={.metadata.annotations.note}")
                .ok()
                .out())
        .isEqualTo("hello");

    kubectl.run("patch", "wd", "w1", "--type=merge", "-p", "{\"spec\":{\"size\":7}}").ok();
    kubectl
        .run(
            "patch",
            "wd",
            "w1",
            "--subresource=status",
            "--type=merge",
            "-p",
            "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}")
        .ok();
    assertThat(kubectl.run("get", "wd", "w1", "--no-headers").ok().out())
        .containsPattern("w1\\s+7\\s+green\\s+Running\\s+True");
    assertThat(kubectl.run("get", "wd", "w1", "-o", "jsonpath={.metadata.generation}").ok().out())
        .isEqualTo("2");

    // status is a subresource: a spec patch cannot change it
    kubectl
        .run("patch", "wd", "w1", "--type=merge", "-p", "{\"status\":{\"phase\":\"Done\"}}")
        .ok();
    assertThat(kubectl.run("get", "wd", "w1", "-o", "jsonpath={.status.phase}").ok().out())
        .isEqualTo("Running");

    assertThat(kubectl.run("delete", "wd", "w1").ok().out()).contains("deleted");
    assertThat(kubectl.run("get", "wd", "w1").err())
        .contains("widgets.test.gpupool.io \"w1\" not found");
  }

  @Test
  @Order(3)
  void invalidCustomResourcesAreRefusedNamingTheField() {
    Kubectl.Result r = kubectl.runWithInput(widget("bad", "size: 0"), "apply", "-f", "-");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err())
        .contains(
            "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1");

    Kubectl.Result cel =
        kubectl.runWithInput(widget("bad", "size: 2\nminSize: 5"), "apply", "-f", "-");
    assertThat(cel.exit()).isNotZero();
    assertThat(cel.err())
        .contains("spec.minSize: Invalid value: \"object\": minSize must not exceed size");

    Kubectl.Result typo =
        kubectl.runWithInput(widget("typo", "size: 2\nsise: 3"), "apply", "-f", "-");
    assertThat(typo.exit()).isNotZero();
    assertThat(typo.err())
        .contains(
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error:"
                + " unknown field \"spec.sise\"");
    kubectl
        .runWithInput(widget("typo", "size: 2\nsise: 3"), "apply", "--validate=false", "-f", "-")
        .ok();
    assertThat(kubectl.run("get", "wd", "typo", "-o", "jsonpath={.spec}").ok().out())
        .as("pruned without strict validation")
        .contains("\"size\":2")
        .doesNotContain("sise");
    kubectl.run("delete", "wd", "typo").ok();

    kubectl.runWithInput(widget("good", "size: 2"), "apply", "-f", "-").ok();
    Kubectl.Result patch =
        kubectl.run(
            "patch", "wd", "good", "--type=merge", "-p", "{\"spec\":{\"colour\":\"pink\"}}");
    assertThat(patch.exit()).isNotZero();
    assertThat(patch.err()).contains("spec.colour: Unsupported value: \"pink\"");
    assertThat(kubectl.run("get", "wd", "bad").exit()).isNotZero();
    kubectl.run("delete", "wd", "good").ok();
  }

  @Test
  @Order(4)
  void getWatchSeesChanges() throws Exception {
    kubectl.runWithInput(widget("watched", "size: 1"), "apply", "-f", "-").ok();
    try (Kubectl.Background watch = kubectl.start("get", "wd", "-w")) {
      watch.awaitLine("watched", WAIT);
      kubectl
          .run(
              "patch",
              "wd",
              "watched",
              "--subresource=status",
              "--type=merge",
              "-p",
              "{\"status\":{\"phase\":\"Running\"}}")
          .ok();
      assertThat(watch.awaitLine("Running", WAIT)).contains("watched");
      kubectl.runWithInput(widget("second", "size: 2"), "apply", "-f", "-").ok();
      watch.awaitLine("second", WAIT);
    }
    kubectl.run("delete", "wd", "watched", "second").ok();
  }

  @Test
  @Order(5)
  void waitForJsonPathAndCondition() throws Exception {
    kubectl.runWithInput(widget("waited", "size: 1"), "apply", "-f", "-").ok();
    try (Kubectl.Background jsonpath =
            kubectl.start(
                "wait", "--for=jsonpath={.status.phase}=Done", "wd/waited", "--timeout=30s");
        Kubectl.Background condition =
            kubectl.start("wait", "--for=condition=Ready", "wd/waited", "--timeout=30s")) {
      Thread.sleep(1500);
      kubectl
          .run(
              "patch",
              "wd",
              "waited",
              "--subresource=status",
              "--type=merge",
              "-p",
              "{\"status\":{\"phase\":\"Done\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}")
          .ok();
      assertThat(jsonpath.awaitLine("condition met", WAIT)).contains("waited");
      assertThat(jsonpath.awaitExit(WAIT)).isZero();
      assertThat(condition.awaitLine("condition met", WAIT)).contains("waited");
      assertThat(condition.awaitExit(WAIT)).isZero();
    }
    Kubectl.Result timeout =
        kubectl.run("wait", "--for=jsonpath={.status.phase}=Never", "wd/waited", "--timeout=2s");
    assertThat(timeout.exit()).isNotZero();
    assertThat(timeout.err()).contains("timed out");
  }

  @Test
  @Order(6)
  void builtInsApplyStrategicPatchAndOwnerGarbageCollection() {
    String pod =
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: owner
          labels: {app: demo}
        spec:
          containers:
          - name: main
            image: trainer:1
            env: [{name: A, value: "1"}]
          - name: side
            image: sidecar:1
        """;
    kubectl.runWithInput(pod, "apply", "-f", "-").ok();
    assertThat(
            kubectl
                .runWithInput(pod.replace("trainer:1", "trainer:2"), "apply", "-f", "-")
                .ok()
                .out())
        .contains("pod/owner configured");
    kubectl
        .run(
            "patch",
            "pod",
            "owner",
            "-p",
            "{\"spec\":{\"containers\":[{\"name\":\"side\",\"image\":\"sidecar:2\"}]}}")
        .ok();
    assertThat(
            kubectl
                .run(
                    "get",
                    "pod",
                    "owner",
                    "-o",
                    "jsonpath={.spec.containers[*].image} {.spec.containers[0].env[0].value}")
                .ok()
                .out())
        .isEqualTo("trainer:2 sidecar:2 1");
    assertThat(kubectl.run("get", "pods").ok().out())
        .containsPattern("NAME\\s+READY\\s+STATUS\\s+RESTARTS\\s+AGE")
        .containsPattern("owner\\s+0/2\\s+Pending");

    String uid = kubectl.run("get", "pod", "owner", "-o", "jsonpath={.metadata.uid}").ok().out();
    String owned =
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: owned
          ownerReferences:
          - {apiVersion: v1, kind: Pod, name: owner, uid: %s}
        data: {k: v}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: unowned
        data: {k: v}
        """
            .formatted(uid);
    kubectl.runWithInput(owned, "apply", "-f", "-").ok();
    kubectl.run("delete", "pod", "owner").ok();
    assertThat(kubectl.run("get", "configmaps", "-o", "name").ok().out())
        .contains("configmap/unowned")
        .doesNotContain("configmap/owned");
  }

  @Test
  @Order(7)
  void deletingANamespaceDeletesItsObjects() {
    kubectl
        .runWithInput(
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"scratch\"}}",
            "create",
            "-f",
            "-")
        .ok();
    kubectl
        .runWithInput(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: scratch}\ndata: {a: b}\n",
            "apply",
            "-f",
            "-")
        .ok();
    assertThat(kubectl.run("get", "cm", "-n", "scratch", "-o", "name").ok().out())
        .contains("configmap/c1");
    kubectl.run("delete", "namespace", "scratch").ok();
    assertThat(kubectl.run("get", "cm", "-A", "-o", "name").ok().out())
        .doesNotContain("configmap/c1");
    assertThat(kubectl.run("get", "ns").ok().out()).doesNotContain("scratch");
  }

  @Test
  @Order(8)
  void imperativeCreatesOfSimpleTypes() {
    kubectl.run("create", "namespace", "imperative").ok();
    kubectl.run("create", "configmap", "c2", "-n", "imperative", "--from-literal=a=b").ok();
    kubectl
        .run("create", "secret", "generic", "s1", "-n", "imperative", "--from-literal=pw=x")
        .ok();
    kubectl.run("create", "serviceaccount", "robot", "-n", "imperative").ok();
    assertThat(
            kubectl
                .run("get", "cm", "c2", "-n", "imperative", "-o", "jsonpath={.data.a}")
                .ok()
                .out())
        .isEqualTo("b");
    assertThat(
            kubectl
                .run("get", "secret", "s1", "-n", "imperative", "-o", "jsonpath={.data.pw}")
                .ok()
                .out())
        .isEqualTo("eA==");
    assertThat(kubectl.run("get", "sa", "-n", "imperative", "-o", "name").ok().out())
        .contains("serviceaccount/robot");
    Kubectl.Result unsupported =
        kubectl.run("create", "deployment", "d", "-n", "imperative", "--image=x");
    assertThat(unsupported.exit()).isNotZero();
    assertThat(unsupported.err()).contains("protobuf only for Namespace, ConfigMap, Secret");
    kubectl.run("delete", "namespace", "imperative").ok();
  }

  @Test
  @Order(9)
  void drainEvictsThePodsOfANodeAndCordonsIt() {
    String manifests =
        """
        apiVersion: v1
        kind: Node
        metadata: {name: gpu-node-1, labels: {nvidia.com/gpu.present: "true"}}
        status:
          conditions: [{type: Ready, status: "True"}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: on-node, namespace: default}
        spec:
          nodeName: gpu-node-1
          containers: [{name: c, image: x}]
        """;
    kubectl.runWithInput(manifests, "apply", "-f", "-").ok();
    Kubectl.Result drain =
        kubectl.run("drain", "gpu-node-1", "--force", "--ignore-daemonsets", "--timeout=20s");
    assertThat(drain.exit()).as(drain.err()).isZero();
    assertThat(drain.out()).contains("pod/on-node", "drained");
    assertThat(kubectl.run("get", "pod", "on-node").err()).contains("not found");
    assertThat(kubectl.run("get", "node", "gpu-node-1", "--no-headers").ok().out())
        .contains("SchedulingDisabled");
    kubectl.run("uncordon", "gpu-node-1").ok();
    assertThat(kubectl.run("get", "node", "gpu-node-1", "--no-headers").ok().out())
        .doesNotContain("SchedulingDisabled");
    kubectl.run("delete", "node", "gpu-node-1").ok();
  }

  @Test
  @Order(10)
  void explainDescribesEveryGpupoolKindFromItsCrd() {
    Path crds = Path.of("..", "crds").toAbsolutePath().normalize();
    kubectl.run("apply", "-f", crds.toString()).ok();
    // api-resources refreshes kubectl's discovery cache, which still predates the new CRDs
    assertThat(kubectl.run("api-resources", "--api-group=gpupool.io").ok().out())
        .contains("trainingjobs", "inferencejobs", "gpuproviders", "gpuqueues", "billingaccounts");

    String parallelism = kubectl.run("explain", "tj.spec.parallelism").ok().out();
    assertThat(parallelism)
        .containsPattern("GROUP:\\s+gpupool.io")
        .containsPattern("KIND:\\s+TrainingJob")
        .containsPattern("VERSION:\\s+v1alpha1")
        .containsPattern("FIELD:\\s+parallelism <Object>")
        .containsPattern("gpusPerWorker\\s+<integer>")
        .contains("GPUs per worker");

    assertThat(kubectl.run("explain", "trainingjob").ok().out())
        .containsPattern("spec\\s+<Object>")
        .containsPattern("status\\s+<Object>")
        .containsPattern("metadata\\s+<Object>");
    assertThat(kubectl.run("explain", "ij.spec").ok().out())
        .contains("InferenceJob")
        .containsPattern("replicas\\s+<");
    assertThat(kubectl.run("explain", "gpuprovider.spec").ok().out())
        .contains("GpuProvider")
        .containsPattern("payoutAddress\\s+<string>");
    assertThat(kubectl.run("explain", "gq.spec").ok().out())
        .contains("GpuQueue")
        .containsPattern("cohort\\s+<string>")
        .containsPattern("quotas\\s+<\\[\\]Object>");
    assertThat(kubectl.run("explain", "ba.spec").ok().out())
        .contains("BillingAccount")
        .containsPattern("payer\\s+<string>")
        .containsPattern("namespaces\\s+<\\[\\]string>");
    assertThat(kubectl.run("explain", "tj.spec.parallelism.workers").ok().out())
        .as("a leaf field")
        .containsPattern("FIELD:\\s+workers <integer>");
    assertThat(kubectl.run("explain", "tj.spec.nosuchfield").err())
        .contains("field \"nosuchfield\" does not exist");
  }

  private static String trainingJob(String name, String extra) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata: {name: %s, namespace: default}
        spec:
          image: trainer:1
          parallelism: {workers: 1}
          model: {parameters: 1B, layers: 24}
        %s
        """
        .formatted(name, extra.indent(2));
  }

  @Test
  @Order(11)
  void podTemplatesAreAcceptedAndWhatTheOperatorOwnsIsRefusedNamingTheField() {
    kubectl.run("apply", "-f", Path.of("..", "crds").toAbsolutePath().normalize().toString()).ok();
    String good =
        """
        template:
          labels: {team: nlp}
          volumes:
          - name: dataset
            persistentVolumeClaim: {claimName: imagenet, readOnly: true}
          volumeMounts:
          - {name: dataset, mountPath: /data}
          envFrom:
          - secretRef: {name: hf-token}
          shmSize: 8Gi
          nodeSelector: {disk: nvme}
          sidecars:
          - {name: logs, image: fluent}
        """;
    assertThat(kubectl.runWithInput(trainingJob("tmpl-ok", good), "apply", "-f", "-").ok().out())
        .contains("trainingjob.gpupool.io/tmpl-ok created");

    Kubectl.Result bad =
        kubectl.runWithInput(
            trainingJob(
                "tmpl-bad",
                """
                env:
                - {name: MASTER_ADDR, value: evil}
                template:
                  nodeName: gpu-node-1
                  labels: {gpupool.io/rank: "0"}
                  sidecars:
                  - name: greedy
                    image: x
                    resources: {limits: {nvidia.com/gpu: 1}}
                """),
            "apply",
            "-f",
            "-");
    assertThat(bad.exit()).isNotZero();
    assertThat(bad.err())
        .contains("spec.template.nodeName")
        .contains("nodeName is the operator's")
        .contains("spec.template.sidecars")
        .contains("sidecars must not request GPUs")
        .contains("spec.template.labels")
        .contains("spec.env")
        .contains("are set by the operator (rendezvous)");
    kubectl.run("delete", "tj", "tmpl-ok").ok();
  }
}
