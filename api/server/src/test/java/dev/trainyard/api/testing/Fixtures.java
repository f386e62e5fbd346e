package dev.trainyard.api.testing;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;

import io.restassured.response.ValidatableResponse;
import java.util.List;
import java.util.Map;

/** Creates projects, pools, tokens and jobs through the API as the admin, each with a fresh name. */
public final class Fixtures {
    private Fixtures() {}

    /** A token and the secret to send as its bearer. */
    public record Token(long id, String secret) {}

    public static String project() {
        String name = Names.unique("proj");
        asAdmin().body(Map.of("name", name)).post("/api/v1/projects").then().statusCode(201);
        return name;
    }

    public static String pool() {
        return pool("cpu", "1.50");
    }

    public static String pool(String gpuType, String price) {
        String name = Names.unique("pool");
        asAdmin()
                .body(Map.of("name", name, "gpuType", gpuType, "pricePerGpuHour", new java.math.BigDecimal(price)))
                .post("/api/v1/pools")
                .then()
                .statusCode(201);
        return name;
    }

    public static Token member(String project) {
        return token(Map.of("name", Names.unique("member"), "role", "MEMBER", "project", project));
    }

    public static Token runner() {
        return token(Map.of("name", Names.unique("runner"), "role", "RUNNER"));
    }

    public static Token admin() {
        return token(Map.of("name", Names.unique("admin"), "role", "ADMIN"));
    }

    private static Token token(Map<String, Object> request) {
        var body = asAdmin()
                .body(request)
                .post("/api/v1/tokens")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();
        return new Token(body.getLong("token.id"), body.getString("secret"));
    }

    /** Submits a spec as the admin; returns the new job's id. */
    public static long submit(Spec spec) {
        return asAdmin()
                .body(spec.json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getLong("id");
    }

    /** Registers a runner of {@code pool} with one CPU device, as an agent would with {@code token}; returns its id. */
    public static long registerRunner(Token token, String pool, String namePrefix) {
        return registration(token, Names.unique(namePrefix), pool)
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("runnerId");
    }

    /** Asks to register runner {@code name} of {@code pool} with one CPU device; the answer is the caller's to check. */
    public static ValidatableResponse registration(Token token, String name, String pool) {
        return as(token.secret())
                .body(Map.of(
                        "name",
                        name,
                        "host",
                        "127.0.0.1",
                        "pool",
                        pool,
                        "devices",
                        List.of(Map.of("index", 0, "kind", "cpu", "name", "cpu:0"))))
                .post("/api/v1/runner/register")
                .then();
    }
}
