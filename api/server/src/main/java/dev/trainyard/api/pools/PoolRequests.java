package dev.trainyard.api.pools;

import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.Violations;
import java.math.BigDecimal;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request bodies of the pool endpoints. */
public final class PoolRequests {
    private PoolRequests() {}

    /** Creates a pool. */
    @Schema(name = "CreatePool")
    public record Create(
            @Schema(
                    required = true,
                    description = "Lower-case letters, digits and '-', up to 63",
                    example = "h100",
                    maxLength = 63,
                    pattern = Violations.RESOURCE_NAME_PATTERN)
            String name,

            @Schema(
                    required = true,
                    description = "GPU type of its runners; 'cpu' for CPU devices",
                    example = "h100",
                    maxLength = 64,
                    pattern = "^[A-Za-z0-9._-]{1,64}$")
            String gpuType,

            @Schema(
                    required = true,
                    description = "USD per GPU-hour",
                    example = "2.50",
                    minimum = "0",
                    maximum = PoolService.MAX_PRICE)
            BigDecimal pricePerGpuHour,

            @Schema(
                    description = "Peak FLOP/s of one device (e.g. 9.89e14 for an H100's dense bf16), against which"
                            + " runs report model FLOP utilization (MFU); left out, no MFU is reported",
                    example = "989000000000000",
                    minimum = "0",
                    exclusiveMinimum = true,
                    maximum = PoolService.MAX_PEAK_FLOPS)
            Double peakFlopsPerDevice,

            @Schema(description = "What the pool's jobs may read; left out, they may read no file and no URL")
            DataAccessPolicy dataAccess) {}

    /**
     * Changes a pool's price (running attempts are charged the new price from now on), its data access policy
     * (checked when a job is submitted and again when a runner reads; running attempts keep what they read) and/or
     * its devices' peak FLOP/s.
     */
    @Schema(name = "UpdatePool")
    public record Update(
            @Schema(description = "USD per GPU-hour", minimum = "0", maximum = PoolService.MAX_PRICE)
            BigDecimal pricePerGpuHour,

            @Schema(
                    description = "Peak FLOP/s of one device, for MFU; 0 clears it (no MFU is reported). Running"
                            + " attempts keep the figure they started with",
                    minimum = "0",
                    maximum = PoolService.MAX_PEAK_FLOPS)
            Double peakFlopsPerDevice,

            @Schema(
                    description =
                            "Replaces the pool's data access policy as a whole; left-out keys take their defaults")
            DataAccessPolicy dataAccess) {}
}
