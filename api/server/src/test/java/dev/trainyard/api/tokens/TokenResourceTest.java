package dev.trainyard.api.tokens;

import static dev.trainyard.api.testing.ApiRequests.anonymous;
import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.id;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class TokenResourceTest {

    @Test
    void createdMemberTokenCarriesItsSecretOnceAndWorksAsBearer() {
        String project = Fixtures.project();
        String name = Names.unique("alice");

        var created = asAdmin()
                .body(Map.of("name", name, "role", "MEMBER", "project", project))
                .post("/api/v1/tokens")
                .then()
                .statusCode(201)
                .header("Location", notNullValue())
                .body("token.name", equalTo(name))
                .body("token.role", equalTo("MEMBER"))
                .body("token.project", equalTo(project))
                .body("token.revokedAt", nullValue())
                .extract()
                .jsonPath();
        String secret = created.getString("secret");
        long id = created.getLong("token.id");

        assertThat(secret).startsWith(created.getString("token.prefix"));
        as(secret)
                .get("/api/v1/me")
                .then()
                .statusCode(200)
                .body("tokenId", id(id))
                .body("name", equalTo(name))
                .body("role", equalTo("MEMBER"))
                .body("project", equalTo(project));
    }

    @Test
    void listShowsTokensButNeverTheirSecrets() {
        var token = Fixtures.runner();

        String body =
                asAdmin().get("/api/v1/tokens").then().statusCode(200).extract().asString();
        List<Long> ids =
                asAdmin().get("/api/v1/tokens").then().extract().jsonPath().getList("id", Long.class);

        assertThat(ids).contains(token.id());
        assertThat(body)
                .doesNotContain(token.secret())
                .doesNotContain("\"secret\"")
                .doesNotContain("tokenHash");
    }

    @Test
    void revokedTokenIsRefusedWith401() {
        var token = Fixtures.member(Fixtures.project());
        as(token.secret()).get("/api/v1/me").then().statusCode(200);

        asAdmin().delete("/api/v1/tokens/" + token.id()).then().statusCode(200).body("revokedAt", notNullValue());

        problem(as(token.secret()).get("/api/v1/me").then(), 401).body("type", equalTo("/problems/unauthenticated"));
        problem(as(token.secret()).get("/api/v1/jobs").then(), 401);
    }

    @Test
    void revokedAdminTokenLosesAdminRights() {
        var admin = Fixtures.admin();
        as(admin.secret()).get("/api/v1/tokens").then().statusCode(200);

        asAdmin().delete("/api/v1/tokens/" + admin.id()).then().statusCode(200);

        problem(
                as(admin.secret())
                        .body(Map.of("name", Names.unique("p")))
                        .post("/api/v1/projects")
                        .then(),
                401);
    }

    @Test
    void tokenCannotRevokeItself() {
        var admin = Fixtures.admin();

        problem(as(admin.secret()).delete("/api/v1/tokens/" + admin.id()).then(), 409)
                .body("type", equalTo("/problems/invalid-state"));
        as(admin.secret()).get("/api/v1/me").then().statusCode(200);
    }

    @Test
    void revokingAnUnknownTokenIsNotFound() {
        problem(asAdmin().delete("/api/v1/tokens/987654321").then(), 404);
    }

    @Test
    void meDescribesTheAdmin() {
        asAdmin()
                .get("/api/v1/me")
                .then()
                .statusCode(200)
                .body("role", equalTo("ADMIN"))
                .body("project", nullValue())
                .body("name", notNullValue());
    }

    @Test
    void memberTokenNeedsAnExistingProject() {
        problem(
                        asAdmin()
                                .body(Map.of("name", "m", "role", "MEMBER"))
                                .post("/api/v1/tokens")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("project"));
        problem(
                        asAdmin()
                                .body(Map.of("name", "m", "role", "MEMBER", "project", "no-such-project-x"))
                                .post("/api/v1/tokens")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("project"));
    }

    @Test
    void runnerAndAdminTokensBelongToNoProject() {
        problem(
                        asAdmin()
                                .body(Map.of("name", "r", "role", "RUNNER", "project", Fixtures.project()))
                                .post("/api/v1/tokens")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("project"));
    }

    @Test
    void unknownRoleIsRejectedWithTheField() {
        problem(
                        asAdmin()
                                .body(Map.of("name", "x", "role", "SUPERUSER"))
                                .post("/api/v1/tokens")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("role"));
    }

    @Test
    void createdTokenLocationNamesTheToken() {
        var created = asAdmin()
                .body(Map.of("name", Names.unique("loc"), "role", "RUNNER"))
                .post("/api/v1/tokens")
                .then()
                .statusCode(201)
                .extract();
        assertThat(created.header("Location"))
                .endsWith("/api/v1/tokens/" + created.jsonPath().getLong("token.id"));
    }

    @Test
    void anonymousCallerIsToldToSendABearerToken() {
        // RFC 9110 section 11.6.1: a 401 answer carries a WWW-Authenticate challenge.
        problem(anonymous().get("/api/v1/me").then(), 401).header("WWW-Authenticate", startsWith("Bearer"));
    }
}
