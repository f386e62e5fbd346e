package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 7: worst-case cost against the project's remaining budget, and budget stops for running attempts. */
class CostTest {

    /** Pool at 2.50 USD per GPU-hour; job 1 asks for 2 GPUs for two hours: worst case 10 USD. */
    static Scenario tenDollarJob(Double budget, double spent) {
        return snapshot()
                .pool("a", "h100", 2.50)
                .runner(1, "a", 8)
                .runner(2, "a", 8)
                .project("p", budget, spent, 1, 0)
                .job(job(1).pool("a").project("p").gpus(2).runtime(Duration.ofHours(2)));
    }

    static Stream<Arguments> admissions() {
        return Stream.of(
                Arguments.of("unlimited project", tenDollarJob(null, 0), "10"),
                Arguments.of("budget exactly covers the worst case", tenDollarJob(10.0, 0), "10"),
                Arguments.of("one cent short", tenDollarJob(9.99, 0), null),
                Arguments.of("spending counts", tenDollarJob(20.0, 10.01), null),
                Arguments.of(
                        "the job's own remaining maxCostUsd caps the worst case",
                        tenDollarJob(2.5, 0)
                                .job(job(1).pool("a")
                                        .project("p")
                                        .gpus(2)
                                        .runtime(Duration.ofHours(2))
                                        .maxCost(3)
                                        .accrued(1)),
                        "2"),
                Arguments.of(
                        "running attempts' remaining worst case is committed",
                        tenDollarJob(20.0, 0)
                                .runner(3, "a", 8, 6)
                                .running(attempt(10)
                                        .project("p")
                                        .pool("a")
                                        .on(3, 2)
                                        .endsIn(Duration.ofHours(2))),
                        "10"),
                Arguments.of(
                        "... and leaves too little for one more cent",
                        tenDollarJob(19.99, 0)
                                .runner(3, "a", 8, 6)
                                .running(attempt(10)
                                        .project("p")
                                        .pool("a")
                                        .on(3, 2)
                                        .endsIn(Duration.ofHours(2))),
                        null),
                Arguments.of(
                        "a stopping attempt only commits its grace period",
                        tenDollarJob(10.5, 0)
                                .runner(3, "a", 8, 6)
                                .running(attempt(10)
                                        .project("p")
                                        .pool("a")
                                        .on(3, 2)
                                        .endsIn(Duration.ofHours(2))
                                        .preempting()),
                        "10"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("admissions")
    void startsOnlyWhenTheWorstCaseFitsTheBudget(String name, Scenario scenario, String expectedWorstCase) {
        Decision decision = scenario.decide();

        if (expectedWorstCase == null) {
            WaitingJob entry = assertWaits(decision, 1, PendingReason.BUDGET_EXHAUSTED);
            assertThat(entry.message()).contains("worst-case cost");
        } else {
            assertThat(assertPlaced(decision, 1).worstCaseCostUsd()).isEqualByComparingTo(expectedWorstCase);
        }
    }

    @Test
    void placementsOfTheSameCycleShareTheBudget() {
        Decision decision = tenDollarJob(15.0, 0)
                .job(job(2).pool("a").project("p").gpus(2).runtime(Duration.ofHours(2)))
                .decide();

        assertPlaced(decision, 1);
        assertWaits(decision, 2, PendingReason.BUDGET_EXHAUSTED);
    }

    @Test
    void aJobThatUsedUpItsOwnLimitDoesNotStart() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8)
                .job(job(1).pool("a").maxCost(5).accrued(5))
                .decide();

        assertWaits(decision, 1, PendingReason.BUDGET_EXHAUSTED);
    }

    @Test
    void theBudgetCountsInTheCheaperPoolWhenTheExpensiveOneIsTooDear() {
        Decision decision = snapshot()
                .pool("cheap", "h100", 1)
                .runner(1, "cheap", 8)
                .pool("dear", "h100", 10)
                .runner(2, "dear", 8)
                .project("p", 5.0)
                .job(job(1).gpuType("h100").project("p").gpus(4))
                .job(job(2).gpuType("h100").project("p").gpus(4))
                .decide();

        assertThat(assertPlaced(decision, 1).poolId()).isEqualTo(1);
        assertWaits(decision, 2, PendingReason.BUDGET_EXHAUSTED);
    }

    static Stream<Arguments> stops() {
        return Stream.of(
                Arguments.of(
                        "accrued cost reached the job's limit",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 4)
                                .running(attempt(10)
                                        .job(70)
                                        .pool("a")
                                        .on(1, 4)
                                        .maxCost(5)
                                        .accrued(5)),
                        List.of(new BudgetStop(10, 70, BudgetStopReason.MAX_COST_REACHED))),
                Arguments.of(
                        "project spending reached its budget",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 4)
                                .project("p", 100.0, 100, 1, 0)
                                .running(attempt(10)
                                        .job(70)
                                        .project("p")
                                        .pool("a")
                                        .on(1, 4)),
                        List.of(new BudgetStop(10, 70, BudgetStopReason.PROJECT_BUDGET_REACHED))),
                Arguments.of(
                        "still under both limits",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 4)
                                .project("p", 100.0, 99.99, 1, 0)
                                .running(attempt(10)
                                        .job(70)
                                        .project("p")
                                        .pool("a")
                                        .on(1, 4)
                                        .maxCost(5)
                                        .accrued(4.99)),
                        List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stops")
    void runningAttemptsAreStoppedAtTheirLimits(String name, Scenario scenario, List<BudgetStop> expected) {
        assertThat(scenario.decide().budgetStops()).isEqualTo(expected);
    }

    @Test
    void worstCaseRoundsUpToTheMicroDollar() {
        BigDecimal cost = CostModel.cost(1, new BigDecimal("1.00"), 1);

        assertThat(cost).isEqualByComparingTo("0.000278");
    }
}
