package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.Expected.placedIn;
import static dev.trainyard.scheduler.Outcomes.Expected.waits;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 1: a job runs only in the pool it names or in a pool of the GPU type it names. */
class PoolMatchingTest {

    static Scenario twoTypes() {
        return snapshot()
                .pool("a", "h100", 2.50)
                .runner(1, "a", 8)
                .pool("b", "h100", 2.00)
                .runner(2, "b", 8)
                .pool("c", "a100", 1.00)
                .runner(3, "c", 8);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "named pool, even when a cheaper pool has room",
                        twoTypes().job(job(1).pool("a").gpus(2)),
                        placedIn("a")),
                Arguments.of(
                        "GPU type picks the cheapest pool of that type",
                        twoTypes().job(job(1).gpuType("h100").gpus(2)),
                        placedIn("b")),
                Arguments.of(
                        "GPU type is matched without regard to case",
                        twoTypes().job(job(1).gpuType("A100")),
                        placedIn("c")),
                Arguments.of(
                        "GPU type falls back to a pricier pool when the cheapest is full",
                        snapshot()
                                .pool("a", "h100", 2.50)
                                .runner(1, "a", 8)
                                .pool("b", "h100", 2.00)
                                .runner(2, "b", 8, 4)
                                .job(job(1).gpuType("h100").gpus(8)),
                        placedIn("a")),
                Arguments.of(
                        "pool and type both named must both match",
                        twoTypes().job(job(1).pool("c").gpuType("h100")),
                        waits(PendingReason.NO_POOL_FITS)),
                Arguments.of("unknown pool id", twoTypes().job(job(1).poolId(77)), waits(PendingReason.NO_POOL_FITS)),
                Arguments.of(
                        "unknown GPU type", twoTypes().job(job(1).gpuType("tpu")), waits(PendingReason.NO_POOL_FITS)),
                Arguments.of(
                        "larger than any runner and not multi-node",
                        twoTypes().job(job(1).pool("a").gpus(9)),
                        waits(PendingReason.NO_POOL_FITS)),
                Arguments.of(
                        "only draining runners in the pool",
                        snapshot()
                                .pool("d", "h100", 1)
                                .drainingRunner(1, "d", 8)
                                .job(job(1).pool("d")),
                        waits(PendingReason.NO_POOL_FITS)),
                Arguments.of("neither pool nor type", twoTypes().job(job(1)), waits(PendingReason.INVALID_JOB)),
                Arguments.of(
                        "minGpus above gpus",
                        twoTypes().job(job(1).pool("a").gpus(2).minGpus(3)),
                        waits(PendingReason.INVALID_JOB)),
                Arguments.of(
                        "unknown project",
                        twoTypes().job(job(1).pool("a").project("ghost")),
                        waits(PendingReason.INVALID_JOB)));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("cases")
    void jobRunsOnlyInMatchingPools(String name, Scenario scenario, Outcomes.Expected expected) {
        expected.check(scenario, scenario.decide(), 1);
    }
}
