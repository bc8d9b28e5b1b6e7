package io.gpupool.sandbox.chain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A JSON-RPC proxy on 127.0.0.1 in front of anvil that makes the chain endpoint flap as hosted RPC
 * providers do: JSON-RPC errors, 503s, replies held past the client's timeout after the request
 * reached the chain (a transaction sent whose receipt the sender never hears of), and outages in
 * which every request gets a bare 502 as from a gateway whose node restarts. Rates are per request,
 * seeded; every fault is counted.
 */
public final class RpcFaultProxy implements AutoCloseable {

  /** The chain-side faults. */
  public enum Fault {
    /** A JSON-RPC error object instead of the result; the request never reaches the chain. */
    RPC_ERROR,
    /** HTTP 503; the request never reaches the chain. */
    RPC_UNAVAILABLE,
    /** The request reaches the chain, its reply is held past the client's timeout. */
    RPC_TIMEOUT,
    /** Requests during an outage window get a bare 502 (a gateway whose node restarts). */
    RPC_OUTAGE
  }

  private final URI target;
  private final Map<Fault, Double> rates;
  private final Duration hold;
  private final Random random;
  private final Clock clock;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<Fault, AtomicLong> counts = new EnumMap<>(Fault.class);
  private final ExecutorService workers = Executors.newCachedThreadPool();
  private volatile Instant outageUntil = Instant.MIN;
  private volatile boolean enabled = true;
  private final AtomicReference<Runnable> afterSend = new AtomicReference<>();
  private HttpServer server;

  /**
   * @param target anvil's RPC URL
   * @param rates per-request probability of {@link Fault#RPC_ERROR}, {@link Fault#RPC_UNAVAILABLE}
   *     and {@link Fault#RPC_TIMEOUT} (outages are started with {@link #outage})
   * @param hold how long a timed-out reply is held (longer than the client's RPC timeout)
   */
  public RpcFaultProxy(String target, Map<Fault, Double> rates, Duration hold, long seed) {
    this.target = URI.create(target);
    this.rates = new EnumMap<>(Fault.class);
    this.rates.putAll(rates);
    this.hold = hold;
    this.random = new Random(seed);
    this.clock = Clock.systemUTC();
    double sum = rates.values().stream().mapToDouble(Double::doubleValue).sum();
    if (sum > 1 || rates.values().stream().anyMatch(r -> r < 0)) {
      throw new IllegalArgumentException("RPC fault rates must be >= 0 and add up to at most 1");
    }
    for (Fault f : Fault.values()) {
      counts.put(f, new AtomicLong());
    }
  }

  /** Starts on a free port of 127.0.0.1. */
  public RpcFaultProxy start() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen for the RPC proxy", e);
    }
    server.createContext("/", this::onRequest);
    server.setExecutor(workers);
    server.start();
    return this;
  }

  /** The proxy's URL: give it to the operator instead of anvil's. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Every request is refused for {@code length} from now on (counted once per outage). */
  public void outage(Duration length) {
    outageUntil = clock.instant().plus(length);
    counts.get(Fault.RPC_OUTAGE).incrementAndGet();
  }

  /**
   * Runs {@code hook} once, right after the next {@code eth_sendRawTransaction} reached the chain
   * and before its reply goes back: the sender's transaction is in the pool, and the sender has not
   * heard of it yet (the moment to kill it between a transaction's send and its receipt). A later
   * call replaces a hook that has not run; {@link #disarm} drops it.
   */
  public void afterNextSend(Runnable hook) {
    afterSend.set(hook);
  }

  /** Drops a hook {@link #afterNextSend} set that has not run yet; true when there was one. */
  public boolean disarm() {
    return afterSend.getAndSet(null) != null;
  }

  /** Stops injecting (an outage under way ends too): the proxy only forwards. */
  public void calm() {
    enabled = false;
    outageUntil = Instant.MIN;
  }

  /** How many of each fault were injected so far (outages: how many windows). */
  public Map<Fault, Long> counts() {
    Map<Fault, Long> out = new LinkedHashMap<>();
    counts.forEach((f, n) -> out.put(f, n.get()));
    return out;
  }

  private Fault draw() {
    if (!enabled) {
      return null;
    }
    double u;
    synchronized (random) {
      u = random.nextDouble();
    }
    double edge = 0;
    for (var e : rates.entrySet()) {
      edge += e.getValue();
      if (u < edge) {
        return e.getKey();
      }
    }
    return null;
  }

  private void onRequest(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      if (clock.instant().isBefore(outageUntil)) {
        // a gateway in front of a restarting node: no JSON-RPC answer at all
        exchange.sendResponseHeaders(502, -1);
        return;
      }
      Fault fault = draw();
      if (fault == Fault.RPC_ERROR) {
        counts.get(fault).incrementAndGet();
        reply(exchange, 200, rpcError(body));
        return;
      }
      if (fault == Fault.RPC_UNAVAILABLE) {
        counts.get(fault).incrementAndGet();
        reply(exchange, 503, "{\"error\":\"sandbox RPC proxy: service unavailable\"}");
        return;
      }
      HttpResponse<String> forwarded;
      try {
        forwarded =
            http.send(
                HttpRequest.newBuilder(target)
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.sendResponseHeaders(502, -1);
        return;
      } catch (IOException e) {
        exchange.sendResponseHeaders(502, -1);
        return;
      }
      if (sendsTransaction(body)) {
        Runnable hook = afterSend.getAndSet(null);
        if (hook != null) {
          hook.run();
        }
      }
      if (fault == Fault.RPC_TIMEOUT) {
        counts.get(fault).incrementAndGet();
        sleep(hold);
      }
      reply(exchange, forwarded.statusCode(), forwarded.body());
    } catch (IOException e) {
      // the client went away (a held reply after its timeout): nothing to answer
    }
  }

  private static boolean sendsTransaction(byte[] request) {
    return new String(request, StandardCharsets.UTF_8).contains("\"eth_sendRawTransaction\"");
  }

  /** A JSON-RPC error with the request's id (a batch gets one error, which clients reject). */
  private static String rpcError(byte[] request) {
    String text = new String(request, StandardCharsets.UTF_8);
    String id = "null";
    int at = text.indexOf("\"id\"");
    if (at >= 0) {
      int colon = text.indexOf(':', at);
      int end = colon;
      while (end + 1 < text.length() && ",}".indexOf(text.charAt(end + 1)) < 0) {
        end++;
      }
      id = text.substring(colon + 1, end + 1).trim();
    }
    return "{\"jsonrpc\":\"2.0\",\"id\":"
        + id
        + ",\"error\":{\"code\":-32603,\"message\":\"sandbox RPC proxy: internal error\"}}";
  }

  private static void reply(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    workers.shutdownNow();
  }
}
