package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class JobSpecValidatorTest {
    /** A submission that leaves every optional key out. */
    static final String MINIMAL = """
            {"name": "tiny", "resources": {"pool": "cpu", "gpus": 1},
             "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
             "data": {"type": "arithmetic"},
             "training": {"steps": 200}}""";

    @Test
    void fillsThePlatformDefaults() {
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(MINIMAL));

        assertThat(spec.priority()).isEqualTo("normal");
        assertThat(spec.limits()).isEqualTo(new Limits(null, 86_400L, 3));
        assertThat(spec.model()).isEqualTo(new ModelSpec.Gpt("gpt", 1, 16, 2, 8, 256, 0.0));
        assertThat(spec.data()).isEqualTo(new DataSpec.Arithmetic("arithmetic", 0L, 0.1));
        assertThat(spec.training())
                .isEqualTo(new TrainingSpec(200L, 16, 1e-3, 1e-4, 20, 0.01, 1.0, 0L, 20, "fp32", 100.0));
        assertThat(spec.parallelism()).isEqualTo(new ParallelismSpec(null, 4, "1f1b", false, 1, "time", 1, 0));
        assertThat(spec.checkpoint()).isEqualTo(new CheckpointPolicy(50, 3, false));
    }

    @Test
    void warmupIsATenthOfTheRunUpToOneHundredSteps() {
        JobSpec longRun = JobSpecValidator.normalize(SpecDocument.parse(MINIMAL.replace("200", "5000")));

        assertThat(longRun.training().warmupSteps()).isEqualTo(100);
        assertThat(longRun.training().evalEvery()).isEqualTo(500);
        assertThat(longRun.checkpoint().everySteps()).isEqualTo(1250);
    }

    @Test
    void offlineTrainingGetsTheSameDefaultsWithoutNameOrResources() {
        String offline = MINIMAL.replace("\"name\": \"tiny\", \"resources\": {\"pool\": \"cpu\", \"gpus\": 1},", "");
        JobSpec platform = JobSpecValidator.normalize(SpecDocument.parse(MINIMAL));
        JobSpec local = SpecDocument.parseForTraining(offline);

        assertThat(local.model()).isEqualTo(platform.model());
        assertThat(local.data()).isEqualTo(platform.data());
        assertThat(local.training()).isEqualTo(platform.training());
        assertThat(local.parallelism()).isEqualTo(platform.parallelism());
        assertThat(local.checkpoint()).isEqualTo(platform.checkpoint());
    }

    @Test
    void aNormalizedSpecSurvivesTheRoundTripToARunnerUnchanged() {
        JobSpec stored = JobSpecValidator.normalize(SpecDocument.parse(MINIMAL));

        assertThat(SpecDocument.parseForTraining(SpecDocument.toJson(stored))).isEqualTo(stored);
        assertThat(JobSpecValidator.normalize(stored)).isEqualTo(stored);
    }

    @Test
    void reportsEveryViolationByItsFieldPath() {
        String bad = MINIMAL.replace("\"heads\": 2", "\"heads\": 3")
                .replace("\"steps\": 200", "\"steps\": 200, \"batchSize\": 10, \"precision\": \"fp8\"");

        assertThat(violations(bad))
                .extracting(FieldViolation::field)
                .containsExactlyInAnyOrder("model.heads", "training.precision", "training.batchSize");
    }

    @Test
    void aDivergenceFactorIsZeroForNeverOrAboveOne() {
        for (String factor : List.of("0", "1.5", "1e9")) {
            JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(
                    MINIMAL.replace("\"steps\": 200", "\"steps\": 200, \"divergenceFactor\": " + factor)));
            assertThat(spec.training().divergenceFactor()).isEqualTo(Double.parseDouble(factor));
        }
        for (String factor : List.of("-1", "0.5", "1", "1e10")) {
            assertThat(violations(MINIMAL.replace("\"steps\": 200", "\"steps\": 200, \"divergenceFactor\": " + factor)))
                    .as(factor)
                    .extracting(FieldViolation::field)
                    .containsExactly("training.divergenceFactor");
        }
    }

    @Test
    void zeroStagesZeroToThreeAreAcceptedAndOthersAreRefusedByName() {
        String twoReplicas = MINIMAL.replace("\"gpus\": 1", "\"gpus\": 2");
        for (int zero : new int[] {0, 1, 2, 3}) {
            JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(twoReplicas.replace(
                    "\"training\"", "\"parallelism\": {\"dataParallel\": 2, \"zero\": " + zero + "}, \"training\"")));
            assertThat(spec.parallelism().zero()).isEqualTo(zero);
        }
        for (String zero : List.of("4", "-1")) {
            assertThat(violations(twoReplicas.replace(
                            "\"training\"",
                            "\"parallelism\": {\"dataParallel\": 2, \"zero\": " + zero + "}, \"training\"")))
                    .as(zero)
                    .extracting(FieldViolation::field)
                    .containsExactly("parallelism.zero");
        }
    }

    @Test
    void anElasticDataParallelJobsMinimumCountsWholeReplicas() {
        // three replicas of a 2-stage pipeline: 6 devices, each replica 2
        String sixDevices = MINIMAL.replace("\"gpus\": 1", "\"gpus\": 6, \"minGpus\": MIN, \"multiNode\": true")
                .replace("\"layers\": 1", "\"layers\": 2")
                .replace("\"training\": {\"steps\": 200}", "\"training\": {\"steps\": 200, \"batchSize\": 24}")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 3, \"stages\": 2}, \"training\"");
        for (String min : List.of("2", "4")) {
            JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(sixDevices.replace("MIN", min)));
            assertThat(spec.resources().minGpus()).isEqualTo(Integer.parseInt(min));
        }
        for (String min : List.of("1", "3", "5")) {
            assertThat(violations(sixDevices.replace("MIN", min)))
                    .as(min)
                    .extracting(FieldViolation::toString)
                    .singleElement()
                    .asString()
                    .contains("resources.minGpus", "multiple of one data-parallel replica's devices", "(2)");
        }
    }

    @Test
    void zeroWithOneReplicaIsAcceptedAndShardsNothing() {
        JobSpec spec = JobSpecValidator.normalize(
                SpecDocument.parse(MINIMAL.replace("\"training\"", "\"parallelism\": {\"zero\": 2}, \"training\"")));

        assertThat(spec.parallelism().zero()).isEqualTo(2);
        assertThat(MemoryPlan.perStage(spec, 1))
                .isEqualTo(MemoryPlan.perStage(
                        spec.withParallelism(new ParallelismSpec(null, 4, "1f1b", false, 1, "time", 1, 0)), 1));
    }

    @Test
    void namesListItemsByIndex() {
        String mlp = """
                {"name": "m", "resources": {"pool": "cpu", "gpus": 1},
                 "model": {"type": "mlp", "inputs": 4, "hidden": [8, 0], "outputs": 2},
                 "data": {"type": "synthetic-tabular"}, "training": {"steps": 10}}""";

        assertThat(violations(mlp)).extracting(FieldViolation::field).containsExactly("model.hidden[1]");
    }

    @Test
    void refusesAModelTheDataCannotTrain() {
        assertThat(violations(MINIMAL.replace("\"type\": \"arithmetic\"", "\"type\": \"synthetic-tabular\"")))
                .extracting(FieldViolation::field)
                .containsExactly("data.type");
        assertThat(violations(MINIMAL.replace("\"seqLen\": 8", "\"seqLen\": 8, \"vocab\": 100")))
                .extracting(FieldViolation::field)
                .containsExactly("model.vocab");
        String regression = """
                {"name": "m", "resources": {"pool": "cpu", "gpus": 1},
                 "model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 2, "task": "regression"},
                 "data": {"type": "synthetic-tabular"}, "training": {"steps": 10}}""";
        assertThat(violations(regression)).extracting(FieldViolation::field).containsExactly("model.outputs");
    }

    @Test
    void aSubmissionNeedsANameAndResourcesButOfflineTrainingDoesNot() {
        String offline = MINIMAL.replace("\"name\": \"tiny\", \"resources\": {\"pool\": \"cpu\", \"gpus\": 1},", "");

        assertThat(violations(offline)).extracting(FieldViolation::field).containsExactly("name", "resources");
    }

    @Test
    void aPlainPathIsAModelFileOnlyOffline() {
        String script = """
                {"name": "s", "resources": {"pool": "cpu", "gpus": 1},
                 "model": {"type": "torchscript", "uri": "models/lm.pt", "seqLen": 8},
                 "data": {"type": "arithmetic"}, "training": {"steps": 10}}""";

        assertThat(violations(script)).extracting(FieldViolation::field).containsExactly("model.uri");
        assertThat(SpecDocument.parseForTraining(script).model()).isInstanceOf(ModelSpec.TorchScript.class);
    }

    @Test
    void parseNamesAnUnknownOrMistypedKey() {
        assertThatThrownBy(() -> SpecDocument.parse(MINIMAL.replace("\"steps\"", "\"stepz\"")))
                .isInstanceOfSatisfying(
                        InvalidFieldsException.class,
                        e -> assertThat(e.violations())
                                .extracting(FieldViolation::field)
                                .containsExactly("training.stepz"));
        assertThatThrownBy(() -> SpecDocument.parse(MINIMAL.replace("\"layers\": 1", "\"layers\": \"one\"")))
                .isInstanceOfSatisfying(
                        InvalidFieldsException.class,
                        e -> assertThat(e.violations())
                                .extracting(FieldViolation::field)
                                .containsExactly("model.layers"));
    }

    @Test
    void tensorParallelismSplitsHeadsMlpAndVocabularyWithinOneReplica() {
        String tp2 = MINIMAL.replace("\"gpus\": 1", "\"gpus\": 4")
                .replace("\"seqLen\": 8}", "\"seqLen\": 8}, \"parallelism\": {\"tensorParallel\": 2}");

        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(tp2));

        assertThat(spec.parallelism().tensorParallel()).isEqualTo(2);
        // devices = tensorParallel x stages x dataParallel: 4 devices at t = 2 make 2 stages by default
        assertThat(SpecDefaults.stages(4, 1, spec.parallelism().tensorParallel()))
                .isEqualTo(2);
        assertThat(violations(tp2.replace("\"heads\": 2", "\"heads\": 1")))
                .extracting(FieldViolation::field)
                .containsExactly("parallelism.tensorParallel");
        assertThat(violations(tp2.replace("\"tensorParallel\": 2", "\"tensorParallel\": 2, \"stages\": 1")))
                .extracting(FieldViolation::toString)
                .singleElement()
                .asString()
                .contains("parallelism.stages", "tensorParallel x stages x dataParallel");
        assertThat(violations(tp2.replace("\"tensorParallel\": 2", "\"tensorParallel\": 0")))
                .extracting(FieldViolation::field)
                .containsExactly("parallelism.tensorParallel");
        // each data-parallel replica runs a whole tensor-parallel pipeline: 2 replicas of t = 2 on 4 devices
        JobSpec replicated = JobSpecValidator.normalize(
                SpecDocument.parse(tp2.replace("\"tensorParallel\": 2", "\"tensorParallel\": 2, \"dataParallel\": 2")));
        assertThat(replicated.parallelism().dataParallel()).isEqualTo(2);
        assertThat(SpecDefaults.stages(4, 2, replicated.parallelism().tensorParallel()))
                .isEqualTo(1);
        // a replica of 3 devices cannot hold whole groups of 2: a group would cross into another replica's runner
        assertThat(violations(tp2.replace("\"gpus\": 4", "\"gpus\": 6")
                        .replace("\"tensorParallel\": 2", "\"tensorParallel\": 2, \"dataParallel\": 2")))
                .extracting(FieldViolation::field)
                .contains("parallelism.tensorParallel");
        assertThat(violations(tp2.replace("\"seqLen\": 8}", "\"seqLen\": 8, \"vocab\": 255}")))
                .extracting(FieldViolation::toString)
                .anySatisfy(v -> assertThat(v).contains("model.vocab"));
    }

    @Test
    void tensorParallelismIsForGptModelsOnly() {
        String mlp = """
                {"name": "m", "resources": {"pool": "cpu", "gpus": 2},
                 "model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 2},
                 "data": {"type": "synthetic-tabular"}, "training": {"steps": 10},
                 "parallelism": {"tensorParallel": 2}}""";

        assertThat(violations(mlp)).extracting(FieldViolation::field).contains("parallelism.tensorParallel");
    }

    private static List<FieldViolation> violations(String json) {
        try {
            JobSpecValidator.normalize(SpecDocument.parse(json));
        } catch (InvalidFieldsException e) {
            return e.violations();
        }
        throw new AssertionError("the spec was accepted: " + json);
    }
}
