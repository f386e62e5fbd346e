package dev.trainyard.api.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Typed configuration of the API under the {@code trainyard.} prefix; see the README's table. */
@ConfigMapping(prefix = "trainyard")
public interface TrainyardConfig {

    /** Admin token to install at start (its hash is stored); when absent and no admin exists, one is generated and logged once. */
    Optional<String> adminToken();

    /** Scheduler settings. */
    Scheduler scheduler();

    /** Runner liveness settings. */
    Runners runners();

    /** Where uploaded checkpoints are kept. */
    Checkpoints checkpoints();

    /** Scheduler loop settings. */
    interface Scheduler {
        /** Whether this replica takes part in scheduling (it still needs the lease). */
        @WithDefault("true")
        boolean enabled();

        /** Timer between cycles; submissions and runner changes also wake the loop. */
        @WithDefault("1s")
        Duration interval();

        /** How long a leader's lease lasts without renewal. */
        @WithDefault("10s")
        Duration leaseDuration();

        /** Attempts younger than this are never preempted. */
        @WithDefault("60s")
        Duration minRuntimeBeforePreemption();

        /** How often running attempts are charged to the cost ledger (ends are charged exactly). */
        @WithDefault("10s")
        Duration costInterval();

        /** How long a preempted attempt has to checkpoint and stop before it is ended anyway. */
        @WithDefault("60s")
        Duration preemptionGrace();
    }

    /** Runner liveness settings. */
    interface Runners {
        /** A runner silent for this long is LOST and its attempts are requeued. */
        @WithDefault("15s")
        Duration heartbeatTimeout();
    }

    /** Checkpoint store settings. */
    interface Checkpoints {
        /** Directory of the filesystem checkpoint store. */
        @WithDefault("${user.home}/.trainyard/checkpoints")
        String directory();
    }
}
