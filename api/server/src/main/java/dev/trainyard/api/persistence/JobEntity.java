package dev.trainyard.api.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.time.Instant;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A submitted training job. State changes go through the guarded SQL of {@code dev.trainyard.api.lifecycle}
 * (state and version checked), never through dirty checking of this entity.
 */
@Entity
@Table(name = "jobs")
public class JobEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "project_id", nullable = false)
    public Long projectId;

    @Column(nullable = false)
    public String name;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public String spec;

    @Column(nullable = false)
    public String priority;

    @Column(name = "pool_id")
    public Long poolId;

    @Column(name = "gpu_type")
    public String gpuType;

    @Column(nullable = false)
    public int gpus;

    @Column(name = "min_gpus", nullable = false)
    public int minGpus;

    @Column(name = "multi_node", nullable = false)
    public boolean multiNode;

    @Column(name = "max_cost_usd", precision = 16, scale = 6)
    public BigDecimal maxCostUsd;

    @Column(name = "max_runtime_seconds", nullable = false)
    public long maxRuntimeSeconds;

    @Column(name = "max_restarts", nullable = false)
    public int maxRestarts;

    @Column(name = "total_steps", nullable = false)
    public long totalSteps;

    @Column(nullable = false)
    public String state;

    @Column(name = "state_reason")
    public String stateReason;

    /** The step whose loss diverged, on a job that ended TRAINING_DIVERGED. */
    @Column(name = "divergence_step")
    public Long divergenceStep;

    /** That step's loss (NaN or infinite when it was not finite). */
    @Column(name = "divergence_loss")
    public Double divergenceLoss;

    @Column(name = "pending_reason")
    public String pendingReason;

    @Column(name = "pending_message")
    public String pendingMessage;

    @Column(name = "queue_position")
    public Integer queuePosition;

    @Column(name = "estimated_start_at")
    public Instant estimatedStartAt;

    @Column(name = "cancel_requested", nullable = false)
    public boolean cancelRequested;

    @Column(nullable = false)
    public int restarts;

    @Column(name = "accrued_cost_usd", nullable = false, precision = 18, scale = 8)
    public BigDecimal accruedCostUsd = BigDecimal.ZERO;

    @Column(name = "last_step", nullable = false)
    public long lastStep;

    @Column(name = "idempotency_key")
    public String idempotencyKey;

    @Column(name = "submitted_by")
    public Long submittedBy;

    @Column(name = "submitted_at", nullable = false)
    public Instant submittedAt;

    @Column(name = "started_at")
    public Instant startedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    @Column(nullable = false)
    public long version;
}
