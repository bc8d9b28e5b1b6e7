package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * The operator's HTTP port over TLS only, configured as the chart's {@code metrics.tls} does (PEM
 * files from the mounted Secret, plain HTTP disabled): a scraper that trusts the certificate gets
 * the metrics over HTTPS, one that does not is refused in the handshake, and plain HTTP gets none.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(MetricsTlsIT.Tls.class)
class MetricsTlsIT {
  /** A fresh self-signed certificate for localhost, as a Secret's tls.crt and tls.key. */
  public static class Tls implements QuarkusTestProfile {
    static final Path DIR = certificate();

    private static Path certificate() {
      try {
        Path dir = Files.createTempDirectory("metrics-tls");
        Process openssl =
            new ProcessBuilder(
                    List.of(
                        "openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-days",
                        "1",
                        "-subj",
                        "/CN=localhost",
                        "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout",
                        dir.resolve("tls.key").toString(),
                        "-out",
                        dir.resolve("tls.crt").toString()))
                .redirectErrorStream(true)
                .start();
        String out = new String(openssl.getInputStream().readAllBytes());
        if (openssl.waitFor() != 0) {
          throw new IllegalStateException("openssl could not make a test certificate: " + out);
        }
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "quarkus.http.ssl.certificate.files", DIR.resolve("tls.crt").toString(),
          "quarkus.http.ssl.certificate.key-files", DIR.resolve("tls.key").toString(),
          "quarkus.http.ssl.certificate.reload-period", "1h",
          "quarkus.http.insecure-requests", "disabled",
          "quarkus.http.test-ssl-port", "0");
    }
  }

  @TestHTTPResource(value = "/q/metrics", tls = true)
  URL metrics;

  private static SSLContext trusting(Path certificate) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(certificate)) {
      trust.setCertificateEntry(
          "operator", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static List<Throwable> causes(Throwable e) {
    List<Throwable> chain = new java.util.ArrayList<>();
    for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
      chain.add(t);
    }
    return chain;
  }

  private static HttpResponse<String> get(HttpClient client, URI uri) throws Exception {
    return client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metricsAreServedOverHttpsToAScraperThatTrustsTheCertificate() throws Exception {
    assertThat(metrics.getProtocol()).isEqualTo("https");
    HttpClient client =
        HttpClient.newBuilder().sslContext(trusting(Tls.DIR.resolve("tls.crt"))).build();
    HttpResponse<String> response = get(client, metrics.toURI());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("# TYPE ").contains("gpupool_");
    assertThat(
            get(client, URI.create(metrics.toString().replace("/q/metrics", "/q/health/live")))
                .statusCode())
        .as("the probes are served over HTTPS too")
        .isEqualTo(200);
  }

  @Test
  void aScraperThatDoesNotTrustItAndPlainHttpGetNothing() throws Exception {
    Path other = Files.createTempDirectory("other-ca");
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-keyout",
                other.resolve("k").toString(),
                "-out",
                other.resolve("c").toString())
            .redirectErrorStream(true)
            .start();
    openssl.getInputStream().readAllBytes();
    assertThat(openssl.waitFor()).isZero();
    HttpClient stranger = HttpClient.newBuilder().sslContext(trusting(other.resolve("c"))).build();
    assertThatThrownBy(() -> get(stranger, metrics.toURI()))
        .as("the handshake fails: the certificate is not one the stranger trusts")
        .satisfies(
            e -> assertThat(causes(e)).hasAtLeastOneElementOfType(SSLHandshakeException.class));
    URI plain = URI.create(metrics.toString().replaceFirst("^https:", "http:"));
    assertThatThrownBy(() -> get(HttpClient.newHttpClient(), plain))
        .as("plain HTTP to the TLS port gets no metrics")
        .isInstanceOf(IOException.class);
  }
}
