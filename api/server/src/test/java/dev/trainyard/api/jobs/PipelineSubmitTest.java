package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.hamcrest.Matchers.containsString;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import dev.trainyard.spec.JobSpecValidator;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.PipelineCut;
import dev.trainyard.spec.SpecDocument;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pipeline that may be cut between runners is judged stage by stage at submission: accepted when every stage
 * (its tensor-parallel group on one runner) fits some runner though no runner holds them all, refused naming the
 * stage when one fits none. Replicated cuts are accepted at every ZeRO stage, elastic ones with a minimum of whole
 * replicas.
 */
@QuarkusTest
class PipelineSubmitTest {

    /** Two stages of a GPT big enough that its stages' memory matters (some 6.3M parameters each). */
    static Spec twoStages(String project, String pool) {
        return Spec.gpt(project, pool)
                .set("model.layers", 2)
                .set("model.dModel", 512)
                .set("model.heads", 8)
                .set("resources.gpus", 2)
                .set("resources.multiNode", true)
                .set("parallelism.stages", 2);
    }

    static List<Long> stageBytes(Spec spec) {
        return PipelineCut.perStage(JobSpecValidator.normalize(SpecDocument.parse(spec.json()))).stream()
                .map(MemoryEstimate::totalBytes)
                .toList();
    }

    /** A runner of two CPU devices sharing {@code memoryBytes} of host memory. */
    static void runnerSharing(String pool, long memoryBytes) {
        long runner = Db.insertRunner(pool, 2, "ACTIVE");
        String device =
                "{\"index\": %d, \"kind\": \"cpu\", \"name\": \"cpu:%d\", \"memoryBytes\": " + memoryBytes + "}";
        Db.update(
                "update runners set devices = cast(? as jsonb) where id = ?",
                "[" + device.formatted(0, 0) + ", " + device.formatted(1, 1) + "]",
                runner);
    }

    @Test
    void stagesThatEachFitARunnerButNotTogetherAreAcceptedOnlyWhenTheyMayCrossRunners() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Spec spec = twoStages(project, pool);
        List<Long> stages = stageBytes(spec);
        long largest = Math.max(stages.get(0), stages.get(1));
        runnerSharing(pool, largest + Math.min(stages.get(0), stages.get(1)) / 2);
        runnerSharing(pool, largest + Math.min(stages.get(0), stages.get(1)) / 2);

        problem(
                        asAdmin()
                                .body(spec.set("resources.multiNode", false).json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("errors[0].message", containsString("the plan's 2 devices need together"));
        asAdmin()
                .body(spec.set("resources.multiNode", true).json())
                .post("/api/v1/jobs")
                .then()
                .statusCode(201);
    }

    @Test
    void replicasThatWouldNeedACutBetweenRunnersAreAcceptedAtEveryZeroStage() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Db.insertRunner(pool, 2, "ACTIVE");
        Spec replicas = Spec.gpt(project, pool)
                .set("resources.gpus", 6)
                .set("resources.multiNode", true)
                .set("parallelism.dataParallel", 2)
                .set("training.batchSize", 16)
                .set("parallelism.microBatches", 2);

        // ZeRO 3 replicas are cut between runners too: each stage's runners gather its parameters among themselves
        for (int zero = 0; zero <= 3; zero++) {
            asAdmin()
                    .body(replicas.set("parallelism.zero", zero).json())
                    .post("/api/v1/jobs")
                    .then()
                    .statusCode(201);
        }
    }

    @Test
    void anElasticCutJobIsAcceptedWithAMinimumOfWholeReplicasAndRefusedWithPartOfOne() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Db.insertRunner(pool, 1, "ACTIVE");
        Db.insertRunner(pool, 1, "ACTIVE");
        // 2 stages x 2 replicas, at least one cut replica: two one-device runners hold it
        Spec elastic = twoStages(project, pool)
                .set("resources.gpus", 4)
                .set("resources.minGpus", 2)
                .set("parallelism.dataParallel", 2)
                .set("parallelism.zero", 1)
                .set("training.batchSize", 16)
                .set("parallelism.microBatches", 2);

        asAdmin().body(elastic.json()).post("/api/v1/jobs").then().statusCode(201);
        problem(
                        asAdmin()
                                .body(elastic.set("resources.minGpus", 3).json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("errors[0].field", containsString("resources.minGpus"))
                .body("errors[0].message", containsString("multiple of one data-parallel replica's devices"));
    }

    @Test
    void tensorParallelStagesAreCutBetweenRunnersEachGroupJudgedOnOneRunner() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Spec spec = twoStages(project, pool).set("resources.gpus", 4).set("parallelism.tensorParallel", 2);
        List<Long> stages = stageBytes(spec);
        long largest = Math.max(stages.get(0), stages.get(1));
        // each runner's two CPU devices share room for one stage's two shares, not for the whole replica
        runnerSharing(pool, 2 * largest + 1);
        runnerSharing(pool, 2 * largest + 1);

        asAdmin().body(spec.json()).post("/api/v1/jobs").then().statusCode(201);
    }

    @Test
    void aTensorParallelStageGroupThatNoRunnerHoldsIsRefusedByName() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Spec spec = twoStages(project, pool).set("resources.gpus", 4).set("parallelism.tensorParallel", 2);
        List<Long> stages = stageBytes(spec);
        // room for one device's share of any stage, not for the two shares of its group together
        runnerSharing(pool, 2 * Math.min(stages.get(0), stages.get(1)) - 1);
        runnerSharing(pool, 2 * Math.min(stages.get(0), stages.get(1)) - 1);

        problem(asAdmin().body(spec.json()).post("/api/v1/jobs").then(), 400)
                .body(
                        "errors[0].message",
                        containsString("the memory plan's pipeline stage 0 fits no runner of pool '" + pool + "'"));
    }

    @Test
    void aStageThatFitsNoRunnerIsRefusedByName() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        Spec spec = twoStages(project, pool);
        List<Long> stages = stageBytes(spec);
        runnerSharing(pool, Math.min(stages.get(0), stages.get(1)) - 1);

        problem(asAdmin().body(spec.json()).post("/api/v1/jobs").then(), 400)
                .body(
                        "errors[0].message",
                        containsString("the memory plan's pipeline stage 0 fits no runner of pool '" + pool + "'"));
    }
}
