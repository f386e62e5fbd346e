package dev.trainyard.runner.engine;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.StageRange;
import java.util.List;
import java.util.Locale;

/**
 * Estimates each stage's peak memory with the spec module's {@link MemoryPlan} and refuses a plan that does not
 * fit the memory available.
 */
public final class MemoryPlanner {

    private MemoryPlanner() {}

    /** The estimate for one stage; the formula is the spec module's, which the API's dry run shows too. */
    public static MemoryEstimate estimate(
            ModelLayout layout,
            StageRange range,
            int stages,
            PipelineSchedule schedule,
            int microBatches,
            int microBatchRows,
            boolean recompute) {
        return estimate(layout, range, stages, schedule, microBatches, microBatchRows, recompute, 0, 1);
    }

    /** The estimate for one stage of a process sharing its state with {@code processes} at ZeRO {@code zero}. */
    public static MemoryEstimate estimate(
            ModelLayout layout,
            StageRange range,
            int stages,
            PipelineSchedule schedule,
            int microBatches,
            int microBatchRows,
            boolean recompute,
            int zero,
            int processes) {
        int inFlight = schedule.maxInFlight(range.stage(), stages, microBatches);
        return MemoryPlan.stage(layout, range, inFlight, microBatches, microBatchRows, recompute, zero, processes);
    }

    /**
     * Throws {@link MemoryPlanException} when the model's weights, gradients and AdamW state alone (no activations)
     * exceed {@code limitBytes}: checked from the spec before the engine allocates anything, so a model far too
     * large fails with a reason instead of exhausting the host. Only a lower bound of the plan, which the engine
     * checks in full ({@link #requireFits}) once it has partitioned the model; a model known only from its file
     * is not checked here.
     */
    public static void requireModelStateFits(JobSpec spec, long limitBytes) {
        if (limitBytes <= 0 || !ModelLayout.known(spec.model())) {
            return;
        }
        ModelLayout layout = ModelLayout.of(spec.model());
        MemoryEstimate state =
                MemoryPlan.stage(layout, new StageRange(0, 0, layout.blocks().size()), 0, 0, false);
        if (state.stateBytes() > limitBytes) {
            throw new MemoryPlanException(String.format(
                    Locale.ROOT,
                    "the model's %,d parameters need %.1f MiB for weights, gradients and AdamW state alone, but only"
                            + " %.1f MiB are available; nothing was allocated. Choose a smaller model or more"
                            + " memory.",
                    layout.parameters(),
                    MemoryEstimate.mib(state.stateBytes()),
                    MemoryEstimate.mib(limitBytes)));
        }
    }

    /** Throws {@link MemoryPlanException} when the stages together exceed {@code limitBytes}. */
    public static void requireFits(List<StagePlan> stages, long limitBytes) {
        requireFits(stages, 1, limitBytes);
    }

    /**
     * Throws {@link MemoryPlanException} when the stages together, each on {@code devicesPerStage} devices (a
     * tensor-parallel group; each stage plan is one device's), exceed {@code limitBytes}.
     */
    public static void requireFits(List<StagePlan> stages, int devicesPerStage, long limitBytes) {
        long total = devicesPerStage
                * stages.stream().mapToLong(s -> s.memory().totalBytes()).sum();
        if (limitBytes > 0 && total > limitBytes) {
            StringBuilder message = new StringBuilder(String.format(
                    "the plan needs about %.1f MiB but only %.1f MiB are available%s:",
                    MemoryEstimate.mib(total),
                    MemoryEstimate.mib(limitBytes),
                    devicesPerStage > 1 ? " (" + devicesPerStage + " tensor-parallel devices per stage, each)" : ""));
            for (StagePlan stage : stages) {
                message.append("\n  stage ")
                        .append(stage.range().stage())
                        .append(" on ")
                        .append(stage.device())
                        .append(": ")
                        .append(stage.memory());
            }
            message.append(
                    "\nTry more stages (devices), more micro-batches, parallelism.recompute, or a smaller batch.");
            throw new MemoryPlanException(message.toString());
        }
    }

    /** Memory the host reports available (MemAvailable), or 0 when unknown. */
    public static long hostAvailableBytes() {
        return meminfo("MemAvailable:");
    }

    /** The host's physical memory (MemTotal), or 0 when unknown: what its CPU devices share. */
    public static long hostTotalBytes() {
        return meminfo("MemTotal:");
    }

    private static long meminfo(String key) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux: no limit is enforced.
        }
        return 0;
    }
}
