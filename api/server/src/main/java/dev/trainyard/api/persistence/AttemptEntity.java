package dev.trainyard.api.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/** One placement of a job on runner(s), fenced by its lease token. */
@Entity
@Table(name = "attempts")
public class AttemptEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "job_id", nullable = false)
    public Long jobId;

    @Column(nullable = false)
    public int number;

    @Column(name = "runner_id", nullable = false)
    public Long runnerId;

    @Column(nullable = false)
    public int gpus;

    @Column(name = "lease_token", nullable = false)
    public UUID leaseToken;

    @Column(nullable = false)
    public String state;

    @Column(name = "stop_reason")
    public String stopReason;

    @Column(name = "started_at", nullable = false)
    public Instant startedAt;

    @Column(name = "ended_at")
    public Instant endedAt;

    @Column(name = "end_reason")
    public String endReason;

    @Column(name = "last_checkpoint_at")
    public Instant lastCheckpointAt;

    @Column(name = "stop_requested_at")
    public Instant stopRequestedAt;

    @Column(name = "resume_checkpoint_id")
    public Long resumeCheckpointId;

    @Column(name = "cost_accounted_to")
    public Instant costAccountedTo;

    @Column(name = "accrued_cost_usd", nullable = false, precision = 18, scale = 8)
    public BigDecimal accruedCostUsd = BigDecimal.ZERO;
}
