package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.InstantSource;

/** Log lines from any rank of an attempt, stored while the attempt is current. */
@ApplicationScoped
public class LogIngestion {
    static final int MAX_LINES = 2_000;

    private final Transactions transactions;
    private final InstantSource clock;

    public LogIngestion(Transactions transactions, InstantSource clock) {
        this.transactions = transactions;
        this.clock = clock;
    }

    public RunnerMessages.AttemptAck logs(long tokenId, long attemptId, RunnerMessages.LogBatch batch) {
        if (batch == null || batch.lines() == null || batch.lines().size() > MAX_LINES) {
            throw ApiException.InvalidInput.of("lines", "1-" + MAX_LINES + " lines are required");
        }
        Instant now = clock.instant();
        ProtocolBodies.checkLines(batch.lines(), now);
        return transactions.inNew(c -> {
            FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, batch.leaseToken());
            LogLines.append(c, a.jobId(), attemptId, batch.lines(), now);
            return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
        });
    }
}
