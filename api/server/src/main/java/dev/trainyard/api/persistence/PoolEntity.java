package dev.trainyard.api.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.time.Instant;

/** A group of runners with one GPU type and one price per GPU-hour. */
@Entity
@Table(name = "pools")
public class PoolEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String name;

    @Column(name = "gpu_type", nullable = false)
    public String gpuType;

    @Column(name = "price_per_gpu_hour", nullable = false, precision = 16, scale = 6)
    public BigDecimal pricePerGpuHour;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
}
