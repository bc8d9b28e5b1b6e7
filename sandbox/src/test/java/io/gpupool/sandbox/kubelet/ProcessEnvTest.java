package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessEnvTest {
  private static final Path OBJECTS = Path.of("/data/objects");

  /** rank 0 of job "train" is at 127.78.0.2; its port 29500 is 40001 locally. */
  private static final ProcessEnv.Network NETWORK =
      new ProcessEnv.Network() {
        @Override
        public Optional<String> resolve(String dnsName) {
          return dnsName.startsWith("train-worker-0.train.default.svc")
              ? Optional.of("127.78.0.2")
              : Optional.empty();
        }

        @Override
        public int port(String address, int port) {
          return address.equals("127.78.0.2") && port == 29500 ? 40001 : port + 10000;
        }
      };

  private static Map<String, String> env(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  @Test
  void rankZerosNameAndPortBecomeItsLoopbackAddressAndMappedPort() {
    Map<String, String> out =
        ProcessEnv.build(
            env(
                "MASTER_ADDR", "train-worker-0.train.default.svc",
                "MASTER_PORT", "29500",
                "PET_MASTER_ADDR", "train-worker-0.train.default.svc",
                "PET_MASTER_PORT", "29500",
                "GPUPOOL_PORT", "8000"),
            "127.78.0.3",
            "train-worker-1",
            2,
            OBJECTS,
            NETWORK);
    assertThat(out)
        .containsEntry("MASTER_ADDR", "127.78.0.2")
        .containsEntry("MASTER_PORT", "40001")
        .containsEntry("PET_MASTER_PORT", "40001")
        .containsEntry("GPUPOOL_PORT", "8000") // the pod's own listening port stays
        .containsEntry("POD_IP", "127.78.0.3")
        .containsEntry("HOSTNAME", "train-worker-1")
        .containsEntry("NVIDIA_VISIBLE_DEVICES", "sandbox-gpu-0,sandbox-gpu-1")
        .containsEntry("CUDA_VISIBLE_DEVICES", "");
  }

  @Test
  void unknownNamesAndForeignPortsStayAsWritten() {
    Map<String, String> out =
        ProcessEnv.build(
            env(
                "MASTER_ADDR",
                "other.svc-less.example.com",
                "MASTER_PORT",
                "29500",
                "PEER",
                "x-0.y.default.svc"),
            "127.78.0.3",
            "w",
            0,
            OBJECTS,
            NETWORK);
    assertThat(out)
        .containsEntry("MASTER_ADDR", "other.svc-less.example.com")
        .containsEntry("MASTER_PORT", "29500")
        .containsEntry("PEER", "x-0.y.default.svc")
        .containsEntry("NVIDIA_VISIBLE_DEVICES", "void");
  }

  @Test
  void c10dRendezvousIsHostedByThePodTheEndpointNames() {
    Map<String, String> declared =
        env(
            "PET_RDZV_ENDPOINT", "train-worker-0.train.default.svc.cluster.local:29500",
            "PET_RDZV_BACKEND", "c10d");
    assertThat(ProcessEnv.build(declared, "127.78.0.2", "w0", 1, OBJECTS, NETWORK))
        .containsEntry("PET_RDZV_ENDPOINT", "127.78.0.2:40001")
        .containsEntry("PET_RDZV_CONF", "is_host=1");
    declared.put("PET_RDZV_CONF", "join_timeout=60");
    assertThat(ProcessEnv.build(declared, "127.78.0.3", "w1", 1, OBJECTS, NETWORK))
        .containsEntry("PET_RDZV_CONF", "join_timeout=60,is_host=0");
  }

  @Test
  void bucketsBecomeFoldersUnderTheObjectStoreAndCannotEscapeIt() {
    assertThat(ProcessEnv.objectUris("s3://ckpt/jobs/a", OBJECTS))
        .isEqualTo("file:///data/objects/ckpt/jobs/a");
    assertThat(ProcessEnv.objectUris("--from=s3://ckpt", OBJECTS))
        .isEqualTo("--from=file:///data/objects/ckpt");
    assertThat(ProcessEnv.objectUris("s3://ckpt/../../etc", OBJECTS))
        .isEqualTo("s3://ckpt/../../etc");
  }

  @Test
  void podNamesAreTheFourLabelOnes() {
    assertThat(ProcessEnv.podDnsNames("a-0.a.ns.svc.cluster.local:1 b.ns.svc c-1.c.ns.svc"))
        .containsExactly("a-0.a.ns.svc", "c-1.c.ns.svc");
  }

  @Test
  void commandsMapOntoThisMachine() {
    ProcessMode mode = ProcessMode.debian(Path.of("/repo/examples/workloads"), Path.of("/d"));
    assertThat(mode.commandLine(List.of("torchrun"), List.of("/workloads/ddp_train.py", "--x")))
        .containsExactly("/usr/bin/torchrun", "/repo/examples/workloads/ddp_train.py", "--x");
    assertThat(mode.commandLine(List.of("python3", "/workloads/serve.py"), null))
        .containsExactly("/usr/bin/python3", "/repo/examples/workloads/serve.py");
    assertThatThrownBy(() -> mode.commandLine(List.of(), List.of("a")))
        .hasMessageContaining("has none");
  }

  @Test
  void kubernetesVariableReferencesExpand() {
    assertThat(PodProcesses.expand("--port=$(MASTER_PORT) $(NOPE)", Map.of("MASTER_PORT", "1")))
        .isEqualTo("--port=1 $(NOPE)");
  }
}
