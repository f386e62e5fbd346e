package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.jobs.JobsChanged;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.AttemptState;
import dev.trainyard.api.lifecycle.AttemptTransitions;
import dev.trainyard.api.lifecycle.Divergence;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Optional;

/** A runner's calls that move an attempt: its start, rank 0's rendezvous, and its end. */
@ApplicationScoped
public class AttemptCalls {
    private final Transactions transactions;
    private final InstantSource clock;
    private final JobSignals signals;

    public AttemptCalls(Transactions transactions, InstantSource clock, JobSignals signals) {
        this.transactions = transactions;
        this.clock = clock;
        this.signals = signals;
    }

    public RunnerMessages.AttemptAck start(long tokenId, long attemptId, RunnerMessages.AttemptCall call) {
        Instant now = clock.instant();
        return transactions.inNew(c -> {
            FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, call == null ? null : call.leaseToken());
            AttemptState seen = AttemptState.ofWord(a.state());
            AttemptState state = AttemptTransitions.start(c, attemptId, a.jobId(), seen, a.number(), now);
            if (state != seen) {
                signals.changed(JobsChanged.runners(AttemptQueries.runnersOf(c, attemptId)));
            }
            return new RunnerMessages.AttemptAck(attemptId, state.word(), a.stop());
        });
    }

    /** Rank 0 of a multi-runner attempt says where its TCP stores listen; the other ranks learn it on heartbeats. */
    public RunnerMessages.AttemptAck rendezvous(long tokenId, long attemptId, RunnerMessages.Rendezvous r) {
        Violations v = new Violations();
        if (r == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("host", r.host()) && (r.host().isBlank() || r.host().length() > 255)) {
            v.add("host", "must be 1-255 characters");
        }
        if (v.require("port", r.port())) {
            v.checkRange("port", r.port(), 1, 65535);
        }
        v.throwIfAny();
        return transactions.inNew(c -> {
            FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, r.leaseToken());
            if (!AttemptQueries.publishRendezvous(c, attemptId, r.host(), r.port())) {
                throw new ApiException.Conflict(
                        ProblemType.INVALID_STATE, "Attempt " + attemptId + " already has another rendezvous address");
            }
            signals.changed(JobsChanged.runners(AttemptQueries.runnersOf(c, attemptId)));
            return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
        });
    }

    public RunnerMessages.AttemptAck end(long tokenId, long attemptId, RunnerMessages.AttemptEnd end) {
        if (end == null) {
            throw ApiException.InvalidInput.of("$", "a body is required");
        }
        AttemptEnder.Ending ending = parseOutcome(end.outcome());
        Optional<Divergence> divergence = divergence(end, ending);
        Instant now = clock.instant();
        return transactions.inNew(c -> {
            FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, end.leaseToken());
            if (end.finalStep() != null) {
                ProtocolBodies.checkStep("finalStep", end.finalStep(), AttemptQueries.totalSteps(c, a.jobId()));
                AttemptQueries.raiseLastStep(c, a.jobId(), end.finalStep());
            }
            if (ending == AttemptEnder.Ending.SUCCEEDED) {
                ExportUploads.requireComplete(c, attemptId);
            }
            if (divergence.isPresent()) {
                ProtocolBodies.checkStep(
                        "divergence.step", divergence.get().step(), AttemptQueries.totalSteps(c, a.jobId()));
            }
            String state = AttemptEnder.end(c, attemptId, ending, end.message(), divergence.orElse(null), now)
                    .map(JobState::word)
                    .orElse(AttemptState.ENDED.word());
            // devices were freed, and the attempt's other ranks must stop
            signals.changed(
                    JobsChanged.runners(AttemptQueries.runnersOf(c, attemptId)).withSchedule());
            return new RunnerMessages.AttemptAck(attemptId, AttemptState.ENDED.word(), state);
        });
    }

    /** The divergence an end reports, checked: only with FAILED, and a finite loss or a named non-finite one. */
    private static Optional<Divergence> divergence(RunnerMessages.AttemptEnd end, AttemptEnder.Ending ending) {
        if (end.divergence() == null) {
            return Optional.empty();
        }
        if (ending != AttemptEnder.Ending.FAILED) {
            throw ApiException.InvalidInput.of("divergence", "is reported only with outcome FAILED");
        }
        return Optional.of(end.divergence()
                .toDivergence()
                .orElseThrow(() -> ApiException.InvalidInput.of(
                        "divergence",
                        "needs either a finite loss or nonFinite (NaN, Infinity or -Infinity), not both")));
    }

    private static AttemptEnder.Ending parseOutcome(String outcome) {
        if (outcome != null) {
            switch (outcome.toUpperCase(Locale.ROOT)) {
                case "SUCCEEDED":
                    return AttemptEnder.Ending.SUCCEEDED;
                case "FAILED":
                    return AttemptEnder.Ending.FAILED;
                case "STOPPED":
                    return AttemptEnder.Ending.STOPPED;
                case "LOST":
                    return AttemptEnder.Ending.LOST;
                default:
                    break;
            }
        }
        throw ApiException.InvalidInput.of("outcome", "must be SUCCEEDED, FAILED, STOPPED or LOST");
    }
}
