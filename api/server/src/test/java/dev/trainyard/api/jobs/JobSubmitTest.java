package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.amount;
import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.id;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class JobSubmitTest {

    @Test
    void submittedJobIsQueuedWithLocationAndDefaultsFilledIn() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();

        var answer = asAdmin()
                .body(Spec.gpt(project, pool).set("name", "first-job").json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .body("name", equalTo("first-job"))
                .body("project", equalTo(project))
                .body("pool", equalTo(pool))
                .body("gpuType", equalTo("cpu"))
                .body("state", equalTo("QUEUED"))
                .body("priority", equalTo("normal"))
                .body("gpus", equalTo(1))
                .body("minGpus", equalTo(1))
                .body("cancelRequested", equalTo(false))
                .body("progress.step", equalTo(0))
                .body("progress.totalSteps", equalTo(10))
                .body("cost.accruedUsd", amount("0"))
                .body("pending.reason", equalTo("WAITING_FOR_SCHEDULER"))
                .body("submittedAt", notNullValue())
                .body("finishedAt", nullValue())
                .body("spec.training.batchSize", equalTo(16))
                .body("spec.parallelism.schedule", equalTo("1f1b"))
                .body("spec.parallelism.balance", equalTo("time"))
                .body("spec.limits.maxRestarts", equalTo(3))
                .extract();
        long id = answer.jsonPath().getLong("id");

        assertThat(answer.header("Location")).endsWith("/api/v1/jobs/" + id);
        asAdmin()
                .get(answer.header("Location"))
                .then()
                .statusCode(200)
                .body("id", id(id))
                .body("name", equalTo("first-job"))
                .body("state", equalTo("QUEUED"));
        assertThat(Db.queryString("select state from jobs where id = ?", id)).isEqualTo("QUEUED");
    }

    @Test
    void stagesMayBeBalancedByParameterCount() {
        asAdmin()
                .body(Spec.gpt(Fixtures.project(), Fixtures.pool())
                        .set("parallelism.balance", "PARAMS")
                        .json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .body("spec.parallelism.balance", equalTo("params"));
    }

    @Test
    void memberMayLeaveOutTheProjectAndGetsItsOwn() {
        String project = Fixtures.project();
        var member = Fixtures.member(project);

        as(member.secret())
                .body(Spec.gpt(project, Fixtures.pool()).remove("project").json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .body("project", equalTo(project));
    }

    @Test
    void adminMustNameTheProject() {
        long before = Db.jobCount();

        problem(
                        asAdmin()
                                .body(Spec.gpt(null, Fixtures.pool())
                                        .remove("project")
                                        .json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("errors[0].field", equalTo("project"));
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void jobMayAskForAGpuTypeInsteadOfAPool() {
        String project = Fixtures.project();
        Fixtures.pool("a100", "3");

        asAdmin()
                .body(Spec.gpt(project, null)
                        .remove("resources.pool")
                        .set("resources.gpuType", "a100")
                        .json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .body("pool", nullValue())
                .body("gpuType", equalTo("a100"));
    }

    @Test
    void unknownJobIsNotFound() {
        problem(asAdmin().get("/api/v1/jobs/987654321").then(), 404).body("type", equalTo("/problems/not-found"));
    }

    @Test
    void newJobHasASubmittedEvent() {
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));

        asAdmin()
                .get("/api/v1/jobs/" + id + "/events")
                .then()
                .statusCode(200)
                .body("size()", equalTo(1))
                .body("[0].jobId", id(id))
                .body("[0].fromState", nullValue())
                .body("[0].toState", equalTo("QUEUED"))
                .body("[0].reason", equalTo("SUBMITTED"))
                .body("[0].at", notNullValue());
    }

    @Test
    void planStoresNothingAndSaysNoPoolCanHoldTheJobWithoutRunners() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        long before = Db.jobCount();
        long eventsBefore = Db.queryLong("select count(*) from job_events");

        asAdmin()
                .body(Spec.gpt(project, pool).json())
                .post("/api/v1/jobs:plan")
                .then()
                .statusCode(200)
                .body("spec.priority", equalTo("normal"))
                .body("pools.pool", hasItem(pool))
                .body("pools[0].fits", equalTo(false))
                .body("chosenPool", nullValue())
                .body("parameterCount", greaterThan(0))
                .body("warnings", not(empty()));

        assertThat(Db.jobCount()).isEqualTo(before);
        assertThat(Db.queryLong("select count(*) from job_events")).isEqualTo(eventsBefore);
    }

    @Test
    void planChoosesAPoolWithAnActiveRunnerAndPricesTheWorstCase() {
        String project = Fixtures.project();
        String pool = Fixtures.pool("cpu", "2.00");
        Db.insertRunner(pool, 2, "ACTIVE");
        long before = Db.jobCount();

        asAdmin()
                .body(Spec.gpt(project, pool)
                        .set("limits.maxRuntimeSeconds", 1800)
                        .json())
                .post("/api/v1/jobs:plan")
                .then()
                .statusCode(200)
                .body("chosenPool", equalTo(pool))
                .body("pools[0].fits", equalTo(true))
                .body("pools[0].freeGpus", equalTo(2))
                .body("worstCaseCostUsd", amount("1.0")) // 1 device x 2.00 USD/h x 0.5 h
                .body("stages", equalTo(1))
                .body("memoryPerStageBytes.size()", equalTo(1))
                .body("warnings", empty());

        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void planRejectsAnInvalidSpecLikeSubmitDoes() {
        problem(
                        asAdmin()
                                .body(Spec.gpt(Fixtures.project(), Fixtures.pool())
                                        .set("model.heads", 3)
                                        .json())
                                .post("/api/v1/jobs:plan")
                                .then(),
                        400)
                .body("errors.field", hasItem("model.heads"));
    }

    /** A runner of {@code pool} whose one CPU device reports {@code memoryBytes} of host memory. */
    private static long runnerWithHostMemory(String pool, long memoryBytes) {
        long runner = Db.insertRunner(pool, 1, "ACTIVE");
        Db.update(
                "update runners set devices = cast(? as jsonb) where id = ?",
                "[{\"index\": 0, \"kind\": \"cpu\", \"name\": \"cpu:0\", \"memoryBytes\": " + memoryBytes + "}]",
                runner);
        return runner;
    }

    @Test
    void aJobWhoseMemoryPlanFitsNoRunnerOfItsPoolIsRefusedAndThePlanSaysWhy() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        runnerWithHostMemory(pool, 16L << 30);
        // About 9.7 billion parameters: some 145 GiB for weights, gradients and AdamW state alone.
        Spec huge = Spec.gpt(project, pool)
                .set("model.layers", 48)
                .set("model.dModel", 4096)
                .set("model.heads", 32);
        long before = Db.jobCount();

        problem(asAdmin().body(huge.json()).post("/api/v1/jobs").then(), 400)
                .body("errors.field", hasItem("model"))
                .body("errors[0].message", containsString("the memory plan fits no runner of pool '" + pool + "'"))
                .body("errors[0].message", containsString("the host memory its cpu devices share is 16.0 GiB"));
        // No layout of one device fits either, so the dry run refuses too, naming the figures, and proposes nothing.
        problem(asAdmin().body(huge.json()).post("/api/v1/jobs:plan").then(), 400)
                .body("errors.field", hasItem("model"))
                .body("errors[0].message", containsString("the plan needs"))
                .body("errors[0].message", containsString("the largest device there has 16.0 GiB"))
                .body("errors[0].message", containsString("No layout"))
                .body("proposal", nullValue());

        assertThat(Db.jobCount()).isEqualTo(before);
        // The same pool takes a model that fits, and a runner that does not report memory is never judged.
        asAdmin()
                .body(Spec.gpt(project, pool).json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201);
        String unknown = Fixtures.pool();
        Db.insertRunner(unknown, 1, "ACTIVE");
        asAdmin()
                .body(huge.set("resources.pool", unknown).json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201);
    }

    /** A runner of {@code pool} with {@code count} CUDA devices of {@code memoryBytes} each. */
    private static long runnerWithAccelerators(String pool, int count, long memoryBytes) {
        long runner = Db.insertRunner(pool, count, "ACTIVE");
        StringBuilder devices = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            devices.append(i == 0 ? "" : ", ")
                    .append("{\"index\": ")
                    .append(i)
                    .append(", \"kind\": \"cuda\", \"name\": \"cuda:")
                    .append(i)
                    .append("\", \"memoryBytes\": ")
                    .append(memoryBytes)
                    .append('}');
        }
        Db.update(
                "update runners set devices = cast(? as jsonb) where id = ?",
                devices.append(']').toString(),
                runner);
        return runner;
    }

    @Test
    void aLayoutThatDoesNotFitIsRefusedWithTheSmallestLayoutThatDoes() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        runnerWithAccelerators(pool, 4, 550L << 20);
        // About 50.6 million parameters: some 810 MB at 16 bytes each, more than one 550 MiB device holds; cut into
        // two stages, the larger holds about 406 MB. ZeRO 1 over two replicas would still need 12 bytes each (607 MB).
        Spec wide = Spec.gpt(project, pool)
                .set("model.layers", 4)
                .set("model.dModel", 1024)
                .set("model.heads", 8);
        long before = Db.jobCount();

        problem(asAdmin().body(wide.json()).post("/api/v1/jobs").then(), 400)
                .body("errors.field", hasItem("parallelism"))
                .body("errors[0].message", containsString("device cuda:0 has 550.0 MiB"))
                .body("errors[0].message", containsString("This layout fits pool '" + pool + "'"))
                .body("proposal.pool", equalTo(pool))
                .body("proposal.tensorParallel", equalTo(1))
                .body("proposal.stages", equalTo(2))
                .body("proposal.dataParallel", equalTo(1))
                .body("proposal.zero", equalTo(0))
                .body("proposal.gpus", equalTo(2))
                .body("proposal.perDeviceBytes", greaterThan(400_000_000))
                .body("proposal.perDeviceBytes", lessThan(550 << 20));
        assertThat(Db.jobCount()).isEqualTo(before);
        asAdmin()
                .body(wide.json())
                .post("/api/v1/jobs:plan")
                .then()
                .statusCode(200)
                .body("pools[0].fits", equalTo(false))
                .body("memoryPerDeviceBytes", greaterThan(800_000_000))
                .body("proposal.stages", equalTo(2))
                .body("proposal.gpus", equalTo(2))
                .body("warnings", hasItem(containsString("This layout fits")));

        // The proposed layout is accepted; so is tensorParallel 2, whose devices each hold half the split weights.
        asAdmin()
                .body(wide.set("resources.gpus", 2).set("parallelism.stages", 2).json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201);
        asAdmin()
                .body(wide.set("parallelism.stages", null)
                        .set("parallelism.tensorParallel", 2)
                        .json())
                .post("/api/v1/jobs:plan")
                .then()
                .statusCode(200)
                .body("proposal", nullValue())
                .body("memoryPerDeviceBytes", lessThan(550 << 20));
    }

    @Test
    void zeroTwoCountsEachRanksShareOfTheStateSoAModelTooBigUnshardedIsAccepted() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        runnerWithHostMemory(pool, 128L << 30);
        // About 9.7 billion parameters: some 145 GiB at 16 bytes each; at ZeRO 2 over 2 ranks 12 (108 GiB): the
        // moments are halved, the gradients count whole (the engine holds all of them at the end of backward).
        Spec huge = Spec.gpt(project, pool)
                .set("model.layers", 48)
                .set("model.dModel", 4096)
                .set("model.heads", 32)
                .set("resources.gpus", 2)
                .set("resources.multiNode", true)
                .set("parallelism.dataParallel", 2);

        problem(
                        asAdmin()
                                .body(huge.set("parallelism.zero", 0).json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("errors.field", hasItem("model"))
                .body("errors[0].message", containsString("the memory plan fits no runner of pool '" + pool + "'"));
        problem(
                        asAdmin()
                                .body(huge.set("parallelism.zero", 4).json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("errors.field", hasItem("parallelism.zero"));
        asAdmin()
                .body(huge.set("parallelism.zero", 2).json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201)
                .body("spec.parallelism.zero", equalTo(2));
    }
}
