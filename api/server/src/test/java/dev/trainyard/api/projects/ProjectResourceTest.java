package dev.trainyard.api.projects;

import static dev.trainyard.api.testing.ApiRequests.amount;
import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ProjectResourceTest {

    @Test
    void adminCreatesProjectAndFindsItAtItsLocation() {
        String name = Names.unique("vision");
        String location = asAdmin()
                .body(Map.of("name", name, "budgetUsd", 12.5, "share", 2.0))
                .post("/api/v1/projects")
                .then()
                .statusCode(201)
                .header("Location", endsWith("/api/v1/projects/" + name))
                .body("name", equalTo(name))
                .body("budgetUsd", amount("12.5"))
                .body("share", amount("2"))
                .body("spentUsd", amount("0"))
                .extract()
                .header("Location");

        asAdmin()
                .get(location)
                .then()
                .statusCode(200)
                .body("name", equalTo(name))
                .body("budgetUsd", amount("12.5"));
    }

    @Test
    void listShowsEveryProjectToAdminButOnlyItsOwnToMember() {
        String mine = Fixtures.project();
        String other = Fixtures.project();
        var member = Fixtures.member(mine);

        List<String> adminSees = asAdmin()
                .get("/api/v1/projects")
                .then()
                .statusCode(200)
                .extract()
                .path("name");
        List<String> memberSees = as(member.secret())
                .get("/api/v1/projects")
                .then()
                .statusCode(200)
                .extract()
                .path("name");

        assertThat(adminSees).contains(mine, other);
        assertThat(memberSees).containsExactly(mine);
    }

    @Test
    void patchChangesBudgetAndShareAndTheChangeIsKept() {
        String name = Fixtures.project();

        asAdmin()
                .body(Map.of("budgetUsd", 100, "share", 3.5))
                .patch("/api/v1/projects/" + name)
                .then()
                .statusCode(200)
                .body("budgetUsd", amount("100"))
                .body("share", amount("3.5"));

        asAdmin()
                .get("/api/v1/projects/" + name)
                .then()
                .statusCode(200)
                .body("budgetUsd", amount("100"))
                .body("share", amount("3.5"));
    }

    @Test
    void patchUnlimitedRemovesTheBudget() {
        String name = Names.unique("budgeted");
        asAdmin()
                .body(Map.of("name", name, "budgetUsd", 10))
                .post("/api/v1/projects")
                .then()
                .statusCode(201);

        asAdmin()
                .body(Map.of("unlimited", true))
                .patch("/api/v1/projects/" + name)
                .then()
                .statusCode(200)
                .body("budgetUsd", nullValue());
        asAdmin().get("/api/v1/projects/" + name).then().body("budgetUsd", nullValue());
    }

    @Test
    void secondProjectWithTheSameNameIsAConflict() {
        String name = Fixtures.project();

        problem(asAdmin().body(Map.of("name", name)).post("/api/v1/projects").then(), 409)
                .body("type", equalTo("/problems/already-exists"));
    }

    @Test
    void invalidProjectNameIsRejectedWithTheField() {
        problem(
                        asAdmin()
                                .body(Map.of("name", "Has Spaces"))
                                .post("/api/v1/projects")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("name"));
    }

    @Test
    void negativeBudgetIsRejectedWithTheField() {
        problem(
                        asAdmin()
                                .body(Map.of("name", Names.unique("neg"), "budgetUsd", -1))
                                .post("/api/v1/projects")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("budgetUsd"));
    }

    @Test
    void unknownProjectIsNotFound() {
        problem(asAdmin().get("/api/v1/projects/no-such-project-x").then(), 404)
                .body("type", equalTo("/problems/not-found"));
        problem(
                asAdmin()
                        .body(Map.of("share", 2))
                        .patch("/api/v1/projects/no-such-project-x")
                        .then(),
                404);
    }
}
