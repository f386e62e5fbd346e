package dev.trainyard.api.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.time.Instant;

/** A team's project: owns jobs, tokens and optionally a budget. */
@Entity
@Table(name = "projects")
public class ProjectEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String name;

    @Column(name = "budget_usd", precision = 16, scale = 6)
    public BigDecimal budgetUsd;

    @Column(nullable = false)
    public double share = 1.0;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
}
