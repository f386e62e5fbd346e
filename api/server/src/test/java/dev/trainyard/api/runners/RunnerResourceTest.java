package dev.trainyard.api.runners;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.id;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.Test;

@QuarkusTest
class RunnerResourceTest {

    @Test
    void listShowsRunnersAndFiltersByPool() {
        String pool = Fixtures.pool();
        String otherPool = Fixtures.pool();
        long a = Db.insertRunner(pool, 2, "ACTIVE");
        long b = Db.insertRunner(pool, 1, "REGISTERED");
        long elsewhere = Db.insertRunner(otherPool, 1, "ACTIVE");

        List<Long> all = asAdmin()
                .get("/api/v1/runners")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("id", Long.class);
        List<Long> inPool = asAdmin()
                .queryParam("pool", pool)
                .get("/api/v1/runners")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("id", Long.class);

        assertThat(all).contains(a, b, elsewhere);
        assertThat(inPool).containsExactly(a, b);
    }

    @Test
    void runnerShowsItsDevicesInUseAndItsJobs() {
        String pool = Fixtures.pool();
        long runner = Db.insertRunner(pool, 4, "ACTIVE");
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        Db.makeRunning(job, runner);

        asAdmin()
                .get("/api/v1/runners/" + runner)
                .then()
                .statusCode(200)
                .body("id", id(runner))
                .body("pool", equalTo(pool))
                .body("state", equalTo("ACTIVE"))
                .body("totalGpus", equalTo(4))
                .body("usedGpus", equalTo(1))
                .body("runningJobs", contains(id(job)))
                .body("devices", empty());
    }

    @Test
    void drainStopsNewWorkGoingToAnActiveRunner() {
        long runner = Db.insertRunner(Fixtures.pool(), 2, "ACTIVE");

        asAdmin()
                .post("/api/v1/runners/" + runner + ":drain")
                .then()
                .statusCode(200)
                .body("state", equalTo("DRAINING"));

        assertThat(Db.queryString("select state from runners where id = ?", runner))
                .isEqualTo("DRAINING");
        asAdmin()
                .post("/api/v1/runners/" + runner + ":drain")
                .then()
                .statusCode(200)
                .body("state", equalTo("DRAINING"));
    }

    @Test
    void lostRunnerCannotBeDrained() {
        long runner = Db.insertRunner(Fixtures.pool(), 2, "LOST");

        problem(asAdmin().post("/api/v1/runners/" + runner + ":drain").then(), 409)
                .body("type", equalTo("/problems/invalid-state"));
        assertThat(Db.queryString("select state from runners where id = ?", runner))
                .isEqualTo("LOST");
    }

    @Test
    void unknownRunnerIsNotFound() {
        problem(asAdmin().get("/api/v1/runners/987654321").then(), 404);
        problem(asAdmin().post("/api/v1/runners/987654321:drain").then(), 404);
    }
}
