package dev.trainyard.api.pools;

import dev.trainyard.spec.DataAccessPolicy;
import java.math.BigDecimal;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A pool with its price, current capacity and data access policy. */
@Schema(name = "Pool")
public record PoolView(
        @Schema(required = true) long id,
        @Schema(required = true) String name,
        @Schema(required = true) String gpuType,

        @Schema(required = true, description = "USD per GPU-hour")
        BigDecimal pricePerGpuHour,

        @Schema(required = true, description = "Active runners")
        int runners,

        @Schema(required = true, description = "Devices of active runners")
        int totalGpus,

        @Schema(required = true, description = "Devices in use by attempts")
        int usedGpus,

        @Schema(required = true) Instant createdAt,

        @Schema(description = "Peak FLOP/s of one device, for MFU; absent when not declared")
        Double peakFlopsPerDevice,

        @Schema(required = true, description = "What the pool's jobs may read")
        DataAccessPolicy dataAccess) {}
