package dev.trainyard.api.jobs;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.LayoutSearch;
import java.math.BigDecimal;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What would happen to a spec if it were submitted now; nothing is stored. */
@Schema(name = "Plan")
public record PlanView(
        @Schema(required = true, description = "The spec with every default filled in")
        JobSpec spec,

        @Schema(required = true, description = "Pools the job may run in, cheapest first")
        List<PoolFit> pools,

        @Schema(description = "The pool the scheduler would try first, if any fits")
        String chosenPool,

        @Schema(description = "Worst-case cost in the chosen pool: GPUs x price x max runtime, capped by maxCostUsd")
        BigDecimal worstCaseCostUsd,

        @Schema(required = true, description = "Estimated trainable parameters (0 when only known from the model file)")
        long parameterCount,

        @Schema(required = true, description = "Pipeline stages at the requested device count")
        int stages,

        @Schema(
                required = true,
                description = "Estimated peak bytes per stage: weights, gradients, AdamW state, and the larger of the"
                        + " activations and the optimizer step's buffers")
        List<Long> memoryPerStageBytes,

        @Schema(
                required = true,
                description = "Estimated peak bytes on the fullest device of one replica (a tensor-parallel stage's"
                        + " devices each hold 1/tensorParallel of the split tensors); 0 when only the model file"
                        + " knows the layout")
        long memoryPerDeviceBytes,

        @Schema(
                description = "When the requested layout fits no runner of the job's pools by the memory plan: the"
                        + " smallest layout that does (a submission as it is would be refused)")
        LayoutSearch.Proposal proposal,

        @Schema(required = true) List<String> warnings) {

    /** One pool the job may run in. */
    @Schema(name = "PoolFit")
    public record PoolFit(
            @Schema(required = true) String pool,
            @Schema(required = true) String gpuType,
            @Schema(required = true) BigDecimal pricePerGpuHour,

            @Schema(required = true, description = "Most devices one active runner of the pool has")
            int largestRunnerGpus,

            @Schema(required = true, description = "Devices of all active runners")
            int totalGpus,

            @Schema(required = true, description = "Devices free now")
            int freeGpus,

            @Schema(required = true, description = "Whether the pool could ever hold the job")
            boolean fits,

            String reason) {}
}
