package dev.trainyard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.client.ApiClient;
import dev.trainyard.client.api.JobsApi;
import dev.trainyard.client.api.PoolsApi;
import dev.trainyard.client.api.RunnersApi;
import dev.trainyard.client.api.TokensApi;
import java.net.URI;
import java.time.Duration;

/** The generated client, configured with the API URL and bearer token of the resolved configuration. */
public final class Api {
    private final CliConfig config;
    private final ApiClient client;

    public Api(CliConfig config) {
        this.config = config;
        this.client = new ApiClient();
        client.updateBaseUri(baseUrl());
        client.setConnectTimeout(Duration.ofSeconds(10));
        client.setReadTimeout(Duration.ofSeconds(60));
        client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + config.token()));
    }

    /** The API URL without a trailing slash. */
    public String baseUrl() {
        String url = config.api().strip();
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return url;
    }

    public URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    public String token() {
        return config.token();
    }

    /** The client's own mapper, so that --json prints what the API answered in the contract's field names. */
    public ObjectMapper mapper() {
        return client.getObjectMapper();
    }

    public JobsApi jobs() {
        return new JobsApi(client);
    }

    public PoolsApi pools() {
        return new PoolsApi(client);
    }

    public RunnersApi runners() {
        return new RunnersApi(client);
    }

    public TokensApi tokens() {
        return new TokensApi(client);
    }
}
