package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An object that exists is never missing from a read while it is being written, as with
 * kube-apiserver: a client that has seen its create answered may GET it, or list it by name, at any
 * time after. The operator updates a job the moment it is created (finalizer, status), and a {@code
 * kubectl wait tj/X} right after {@code kubectl apply} once answered NotFound, because the store
 * took the old version out before putting the new one in.
 */
class ReadsDuringWritesIT {

  private static final String NS = "/api/v1/namespaces/team-a";
  private static final String CM = NS + "/configmaps/cm";
  private static final int UPDATES = 30;

  private final SandboxApiServer server = new SandboxApiServer();

  @Test
  void aGetOrAListByNameNeverMissesAnObjectBeingUpdated() throws Exception {
    assertThat(
            call(
                    "POST",
                    "/api/v1/namespaces",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                        + "\"metadata\":{\"name\":\"team-a\"}}")
                .code())
        .isEqualTo(201);
    Reply created =
        call(
            "POST",
            NS + "/configmaps",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
    assertThat(created.code()).isEqualTo(201);

    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger writes = new AtomicInteger();
    AtomicInteger reads = new AtomicInteger();
    ConcurrentLinkedQueue<String> misses = new ConcurrentLinkedQueue<>();
    Thread writer =
        new Thread(
            () -> {
              while (writes.get() < UPDATES && misses.size() < 5) {
                JsonNode cm = Json.parse(call("GET", CM, null).body());
                ((ObjectNode) cm).putObject("data").put("n", Integer.toString(writes.get()));
                if (call("PUT", CM, Json.write(cm)).code() == 200) {
                  writes.incrementAndGet();
                }
              }
            });
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      readers.add(
          new Thread(
              () -> {
                while (writing.get()) {
                  Reply got = call("GET", CM, null);
                  if (got.code() != 200) {
                    misses.add("GET answered " + got.code());
                  }
                  Reply listed =
                      call("GET", NS + "/configmaps?fieldSelector=metadata.name%3Dcm", null);
                  if (Json.parse(listed.body()).path("items").size() != 1) {
                    misses.add("list by name: " + listed.body());
                  }
                  reads.incrementAndGet();
                }
              }));
    }
    writer.start();
    readers.forEach(Thread::start);
    writer.join();
    writing.set(false);
    for (Thread t : readers) {
      t.join();
    }

    assertThat(misses)
        .as(
            "reads that missed the object (%d rounds of reads, %d updates)",
            reads.get(), writes.get())
        .isEmpty();
    assertThat(reads.get()).as("rounds of reads made").isGreaterThan(UPDATES / 10);
  }

  private Reply call(String method, String uri, String body) {
    return server.handle(
        new ApiRequest(method, uri, Reply.JSON, Reply.JSON, body == null ? "" : body));
  }
}
