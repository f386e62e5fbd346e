package dev.trainyard.api.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One state transition of a job, with its reason. */
@Entity
@Table(name = "job_events")
public class JobEventEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "job_id", nullable = false)
    public Long jobId;

    @Column(nullable = false)
    public Instant at;

    @Column(name = "from_state")
    public String fromState;

    @Column(name = "to_state", nullable = false)
    public String toState;

    @Column(nullable = false)
    public String reason;

    @Column
    public String message;

    @Column(name = "attempt_id")
    public Long attemptId;

    @Column(name = "divergence_step")
    public Long divergenceStep;

    @Column(name = "divergence_loss")
    public Double divergenceLoss;
}
