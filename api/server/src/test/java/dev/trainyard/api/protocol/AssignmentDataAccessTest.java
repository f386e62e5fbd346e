package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The runner learns its pool's data access policy with each assignment, as the pool has it now, and the peak FLOP/s
 * per device it reports MFU against.
 */
@QuarkusTest
class AssignmentDataAccessTest {

    @Test
    void anAssignmentCarriesThePolicyOfTheRunnersPool() {
        String pool = Names.unique("pool");
        asAdmin()
                .body(Map.of(
                        "name",
                        pool,
                        "gpuType",
                        "cpu",
                        "pricePerGpuHour",
                        1,
                        "dataAccess",
                        Map.of("dataRoots", List.of("/srv/a"), "maxDownloadBytes", 4096),
                        "peakFlopsPerDevice",
                        2.0e11))
                .post("/api/v1/pools")
                .then()
                .statusCode(201);
        Fixtures.Token token = Fixtures.runner();
        long runner = Fixtures.registerRunner(token, pool, "reader");
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        Db.makeRunning(job, runner);
        asAdmin()
                .body(Map.of(
                        "dataAccess", Map.of("dataRoots", List.of("/srv/b"), "allowedHosts", List.of("d.example"))))
                .patch("/api/v1/pools/" + pool)
                .then()
                .statusCode(200);

        as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 0))
                .post("/api/v1/runner/heartbeat")
                .then()
                .statusCode(200)
                .body("assignments[0].jobId", equalTo((int) job))
                .body("assignments[0].dataAccess.dataRoots", contains("/srv/b"))
                .body("assignments[0].dataAccess.allowedHosts", contains("d.example"))
                .body("assignments[0].dataAccess.allowPrivateNetworks", equalTo(false))
                .body("assignments[0].dataAccess.maxDownloadBytes", equalTo(1073741824))
                .body("assignments[0].peakFlopsPerDevice", equalTo(2.0e11f));
    }
}
