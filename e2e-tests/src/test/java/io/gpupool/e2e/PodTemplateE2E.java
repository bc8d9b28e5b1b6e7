package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A training job that needs a dataset on a PersistentVolumeClaim, a token from a Secret and fast
 * local disks, written the way a user writes it and driven with kubectl: the pods carry the PVC
 * mounted at /data and the Secret as env, land only on the nodes the template selects, and the job
 * runs to completion; a template that takes over the operator's fields, or holds a number
 * Kubernetes would refuse in a pod, is refused at apply.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodTemplateE2E {
  private static final ObjectMapper JSON = new ObjectMapper();
  private SandboxCluster cluster;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    cluster = SandboxCluster.start("podtemplate", 20, Map.of());
    kubectl = cluster.kubectl;
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aDatasetClaimAndASecretReachThePodsOnTheSelectedNodes() throws IOException {
    for (String node : new String[] {"eu-west-4090-1", "eu-west-4090-2"}) {
      kubectl.run("label", "node", node, "example.com/disk=nvme", "--overwrite").expectSuccess();
    }
    kubectl
        .applyText(
            """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: imagenet, namespace: default}
            spec:
              accessModes: [ReadOnlyMany]
              resources: {requests: {storage: 200Gi}}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: hf-token, namespace: default}
            stringData: {HF_TOKEN: hf_example}
            ---
            apiVersion: gpupool.io/v1alpha1
            kind: TrainingJob
            metadata: {name: resnet-imagenet, namespace: default}
            spec:
              image: ghcr.io/example/resnet:1
              env:
              - {name: SANDBOX_RUN_SECONDS, value: "40"}
              parallelism: {workers: 2, gpusPerWorker: 1, strategy: DataParallel}
              model: {parameters: 25M, layers: 50, globalBatchSize: 256}
              resources: {gpuModels: [NVIDIA-GeForce-RTX-4090]}
              template:
                nodeSelector: {example.com/disk: nvme}
                volumes:
                - name: dataset
                  persistentVolumeClaim: {claimName: imagenet, readOnly: true}
                volumeMounts:
                - {name: dataset, mountPath: /data, readOnly: true}
                envFrom:
                - secretRef: {name: hf-token}
                shmSize: 8Gi
                labels: {team: vision}
            """)
        .expectSuccess();

    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/resnet-imagenet",
            "--timeout=180s")
        .expectSuccess();

    JsonNode pods =
        JSON.readTree(
            kubectl.run("get", "pods", "-l", "team=vision", "-o", "json").expectSuccess().out());
    assertThat(pods.path("items")).hasSize(2);
    for (JsonNode pod : pods.path("items")) {
      JsonNode spec = pod.path("spec");
      assertThat(spec.path("nodeName").asText()).isIn("eu-west-4090-1", "eu-west-4090-2");
      assertThat(spec.path("volumes").toString())
          .contains("\"claimName\":\"imagenet\"")
          .contains("\"medium\":\"Memory\"");
      JsonNode worker = spec.path("containers").get(0);
      assertThat(worker.path("name").asText()).isEqualTo("worker");
      assertThat(worker.path("volumeMounts").toString())
          .contains("\"mountPath\":\"/data\"")
          .contains("\"mountPath\":\"/dev/shm\"");
      assertThat(worker.path("envFrom").toString()).contains("\"name\":\"hf-token\"");
      assertThat(worker.path("env").toString()).contains("MASTER_ADDR");
    }
  }

  @Test
  void takingOverTheOperatorsFieldsIsRefusedAtApply() {
    Kubectl.Result r =
        kubectl.applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: TrainingJob
            metadata: {name: pinned, namespace: default}
            spec:
              image: ghcr.io/example/train:1
              parallelism: {workers: 1}
              model: {parameters: 1B, layers: 24}
              template:
                nodeName: eu-west-4090-3
            """);
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.err()).contains("spec.template.nodeName").contains("nodeName is the operator's");
  }

  /**
   * A number Kubernetes would refuse in the pod (a port beyond 65535, a probe period beyond int32)
   * is refused when the job is applied, naming the field, instead of failing every pod creation.
   */
  @Test
  void anOutOfRangeNumberInTheTemplateIsRefusedAtApply() {
    Kubectl.Result r =
        kubectl.applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: TrainingJob
            metadata: {name: wide-numbers, namespace: default}
            spec:
              image: ghcr.io/example/train:1
              parallelism: {workers: 1}
              model: {parameters: 1B, layers: 24}
              template:
                sidecars:
                - name: metrics
                  image: ghcr.io/example/exporter:1
                  ports: [{containerPort: 99999999999}]
                  readinessProbe:
                    periodSeconds: 5e9
                    tcpSocket: {port: 9400}
            """);
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.err())
        .contains(
            "spec.template.sidecars[0].ports[0].containerPort: Invalid value: 99999999999:"
                + " spec.template.sidecars[0].ports[0].containerPort in body should be less than"
                + " or equal to 65535")
        .contains("spec.template.sidecars[0].readinessProbe.periodSeconds")
        .contains("should be less than or equal to 2147483647");
    assertThat(kubectl.run("get", "tj", "wide-numbers").err()).contains("not found");
  }
}
