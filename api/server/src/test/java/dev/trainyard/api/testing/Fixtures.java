package dev.trainyard.api.testing;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;

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
}
