package dev.trainyard.runner.agent;

import dev.trainyard.client.ApiClient;
import dev.trainyard.client.ApiException;
import dev.trainyard.client.api.RunnerProtocolApi;
import java.net.URI;
import java.time.Duration;

/**
 * The agent's connection to the API: the generated client with a bearer token, timeouts, and a retry policy
 * that tells transient failures (network, 5xx) from answers that must not be retried (4xx, fencing).
 */
final class ApiSession {

  private final RunnerProtocolApi api;
  private final String baseUri;
  private final String token;

  ApiSession(String baseUri, String token) {
    this.baseUri = baseUri.replaceAll("/+$", "");
    this.token = token;
    URI uri = URI.create(this.baseUri);
    ApiClient client = new ApiClient();
    client.updateBaseUri(this.baseUri);
    client.setConnectTimeout(Duration.ofSeconds(5));
    client.setReadTimeout(Duration.ofSeconds(60));
    client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + token));
    this.api = new RunnerProtocolApi(client);
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("--api must be an absolute URL, was " + baseUri);
    }
  }

  RunnerProtocolApi api() {
    return api;
  }

  String baseUri() {
    return baseUri;
  }

  String token() {
    return token;
  }

  /** A call of the generated client. */
  @FunctionalInterface
  interface Call<T> {
    T run() throws ApiException;
  }

  /** True for failures worth retrying: no answer at all, or a server error. */
  static boolean transientFailure(ApiException e) {
    return e.getCode() == 0 || e.getCode() >= 500;
  }

  /** The API said this attempt is not current any more: the agent must drop it. */
  static boolean fenced(ApiException e) {
    return e.getCode() == 409;
  }

  /**
   * Calls until it succeeds, backing off up to {@code patience}; rethrows a non-transient failure at once and
   * the last transient one when patience runs out.
   */
  static <T> T withRetries(Call<T> call, Duration patience) throws ApiException {
    long deadline = System.nanoTime() + patience.toNanos();
    long backoffMs = 100;
    while (true) {
      try {
        return call.run();
      } catch (ApiException e) {
        if (!transientFailure(e) || System.nanoTime() > deadline) {
          throw e;
        }
        sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
