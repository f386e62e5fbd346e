package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.Objects;

/** A group of runners with the same GPU type and one price per GPU-hour. */
public record Pool(long id, String name, String gpuType, BigDecimal pricePerGpuHour) {
    public Pool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(gpuType, "gpuType");
        Objects.requireNonNull(pricePerGpuHour, "pricePerGpuHour");
    }
}
