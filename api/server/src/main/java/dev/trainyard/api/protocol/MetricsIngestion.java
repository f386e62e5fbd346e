package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Transactions;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.InstantSource;
import java.util.regex.Pattern;

/**
 * Metric batches from the attempt's rank 0: validated, stored in one statement, and signalled to the metrics
 * streams after the commit, coalesced ({@link MetricSignals}). The answer tells the runner whether to stop.
 */
@ApplicationScoped
public class MetricsIngestion {
    static final Pattern METRIC_NAME = Pattern.compile("[a-z0-9_./]{1,64}");
    static final int MAX_POINTS = 20_000;

    private final Transactions transactions;
    private final InstantSource clock;
    private final MetricSignals metricSignals;

    public MetricsIngestion(Transactions transactions, InstantSource clock, MetricSignals metricSignals) {
        this.transactions = transactions;
        this.clock = clock;
        this.metricSignals = metricSignals;
    }

    public RunnerMessages.AttemptAck metrics(long tokenId, long attemptId, RunnerMessages.MetricsBatch batch) {
        validate(batch);
        MetricColumns columns = MetricColumns.of(batch.points());
        Instant now = clock.instant();
        FencedAttempt a = transactions.inNew(c -> {
            FencedAttempt fenced = FencedAttempt.checkForReport(c, tokenId, attemptId, batch.leaseToken());
            ProtocolBodies.checkStep("points.step", columns.maxStep(), AttemptQueries.totalSteps(c, fenced.jobId()));
            MetricPoints.upsert(c, fenced, columns, now);
            return fenced;
        });
        metricSignals.pointsCommitted(a.jobId());
        return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
    }

    private static void validate(RunnerMessages.MetricsBatch batch) {
        Violations v = new Violations();
        if (batch == null || !v.require("points", batch.points())) {
            v.add("points", "is required");
            v.throwIfAny();
        }
        if (batch.points().size() > MAX_POINTS) {
            v.add("points", "at most " + MAX_POINTS + " points per batch");
        }
        for (int i = 0; i < batch.points().size() && v.isEmpty(); i++) {
            RunnerMessages.MetricPoint p = batch.points().get(i);
            if (p == null || p.name() == null || !METRIC_NAME.matcher(p.name()).matches()) {
                v.add("points[" + i + "].name", "must be 1-64 of a-z, 0-9, '_', '.', '/'");
            } else if (p.step() < 0) {
                v.add("points[" + i + "].step", "must not be negative");
            }
        }
        v.throwIfAny();
    }
}
