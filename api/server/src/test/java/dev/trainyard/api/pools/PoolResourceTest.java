package dev.trainyard.api.pools;

import static dev.trainyard.api.testing.ApiRequests.amount;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class PoolResourceTest {

    @Test
    void adminCreatesPoolAndFindsItAtItsLocation() {
        String name = Names.unique("h100");
        String location = asAdmin()
                .body(Map.of("name", name, "gpuType", "h100", "pricePerGpuHour", 2.5))
                .post("/api/v1/pools")
                .then()
                .statusCode(201)
                .header("Location", endsWith("/api/v1/pools/" + name))
                .body("name", equalTo(name))
                .body("gpuType", equalTo("h100"))
                .body("pricePerGpuHour", amount("2.5"))
                .body("runners", equalTo(0))
                .extract()
                .header("Location");

        asAdmin()
                .get(location)
                .then()
                .statusCode(200)
                .body("name", equalTo(name))
                .body("pricePerGpuHour", amount("2.5"));
    }

    @Test
    void listShowsCreatedPools() {
        String a = Fixtures.pool();
        String b = Fixtures.pool();

        List<String> names =
                asAdmin().get("/api/v1/pools").then().statusCode(200).extract().path("name");

        assertThat(names).contains(a, b);
    }

    @Test
    void poolShowsCapacityOfItsActiveRunnersOnly() {
        String pool = Fixtures.pool();
        Db.insertRunner(pool, 4, "ACTIVE");
        Db.insertRunner(pool, 2, "ACTIVE");
        Db.insertRunner(pool, 8, "OFFLINE");

        asAdmin()
                .get("/api/v1/pools/" + pool)
                .then()
                .statusCode(200)
                .body("runners", equalTo(2))
                .body("totalGpus", equalTo(6))
                .body("usedGpus", equalTo(0));
    }

    @Test
    void patchChangesThePriceAndTheChangeIsKept() {
        String pool = Fixtures.pool();

        asAdmin()
                .body(Map.of("pricePerGpuHour", 4.25))
                .patch("/api/v1/pools/" + pool)
                .then()
                .statusCode(200)
                .body("pricePerGpuHour", amount("4.25"));

        asAdmin().get("/api/v1/pools/" + pool).then().body("pricePerGpuHour", amount("4.25"));
    }

    @Test
    void peakFlopsPerDeviceIsDeclaredOnCreateChangedAloneByPatchAndClearedByZero() {
        String name = Names.unique("peak");
        asAdmin()
                .body(Map.of("name", name, "gpuType", "h100", "pricePerGpuHour", 2.5, "peakFlopsPerDevice", 9.89e14))
                .post("/api/v1/pools")
                .then()
                .statusCode(201)
                .body("peakFlopsPerDevice", equalTo(9.89e14f));

        asAdmin()
                .body(Map.of("peakFlopsPerDevice", 4.0e14))
                .patch("/api/v1/pools/" + name)
                .then()
                .statusCode(200)
                .body("peakFlopsPerDevice", equalTo(4.0e14f))
                .body("pricePerGpuHour", amount("2.5"));
        asAdmin()
                .body(Map.of("peakFlopsPerDevice", 0))
                .patch("/api/v1/pools/" + name)
                .then()
                .statusCode(200)
                .body("peakFlopsPerDevice", nullValue());
        asAdmin().get("/api/v1/pools/" + Fixtures.pool()).then().body("peakFlopsPerDevice", nullValue());
    }

    @Test
    void peakFlopsOutOfBoundsAreRejectedWithTheField() {
        for (double bad : new double[] {0, -1, 2e18}) {
            problem(
                            asAdmin()
                                    .body(Map.of(
                                            "name",
                                            Names.unique("badpeak"),
                                            "gpuType",
                                            "cpu",
                                            "pricePerGpuHour",
                                            1,
                                            "peakFlopsPerDevice",
                                            bad))
                                    .post("/api/v1/pools")
                                    .then(),
                            400)
                    .body("errors[0].field", equalTo("peakFlopsPerDevice"));
        }
        problem(
                        asAdmin()
                                .body(Map.of("peakFlopsPerDevice", -5))
                                .patch("/api/v1/pools/" + Fixtures.pool())
                                .then(),
                        400)
                .body("errors[0].field", equalTo("peakFlopsPerDevice"));
    }

    @Test
    void secondPoolWithTheSameNameIsAConflict() {
        String pool = Fixtures.pool();

        problem(
                        asAdmin()
                                .body(Map.of("name", pool, "gpuType", "cpu", "pricePerGpuHour", 1))
                                .post("/api/v1/pools")
                                .then(),
                        409)
                .body("type", equalTo("/problems/already-exists"));
    }

    @Test
    void negativePriceIsRejectedWithTheField() {
        problem(
                        asAdmin()
                                .body(Map.of("name", Names.unique("neg"), "gpuType", "cpu", "pricePerGpuHour", -1))
                                .post("/api/v1/pools")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("pricePerGpuHour"));
    }

    @Test
    void missingGpuTypeIsRejectedWithTheField() {
        problem(
                        asAdmin()
                                .body(Map.of("name", Names.unique("untyped"), "pricePerGpuHour", 1))
                                .post("/api/v1/pools")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("gpuType"));
    }

    @Test
    void unknownPoolIsNotFound() {
        problem(asAdmin().get("/api/v1/pools/no-such-pool-x").then(), 404).body("type", equalTo("/problems/not-found"));
        problem(
                asAdmin()
                        .body(Map.of("pricePerGpuHour", 1))
                        .patch("/api/v1/pools/no-such-pool-x")
                        .then(),
                404);
    }
}
