package dev.trainyard.api.pools;

import java.math.BigDecimal;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request bodies of the pool endpoints. */
public final class PoolRequests {
    private PoolRequests() {}

    /** Creates a pool. */
    @Schema(name = "CreatePool")
    public record Create(
            @Schema(required = true, example = "h100") String name,

            @Schema(
                    required = true,
                    description = "GPU type of its runners; 'cpu' for CPU devices",
                    example = "h100",
                    maxLength = 64,
                    pattern = "[A-Za-z0-9._-]{1,64}")
            String gpuType,

            @Schema(required = true, description = "USD per GPU-hour", example = "2.50")
            BigDecimal pricePerGpuHour) {}

    /** Changes a pool's price; running attempts are charged the new price from now on. */
    @Schema(name = "UpdatePool")
    public record Update(@Schema(required = true) BigDecimal pricePerGpuHour) {}
}
