package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The OpenBLAS pool size the command line restarts with: each stage's share of the cores. */
class NativeEnvironmentTest {

    private final int cores = Runtime.getRuntime().availableProcessors();

    @Test
    void givesEachStageItsShareOfTheCores() {
        assertThat(NativeEnvironment.blasThreads(new String[] {"train", "--spec", "x.json"}))
                .isEqualTo(cores);
        assertThat(NativeEnvironment.blasThreads(new String[] {"train", "--devices", "64"}))
                .isEqualTo(1);
        assertThat(NativeEnvironment.blasThreads(new String[] {"train", "--threads-per-stage", "3"}))
                .isEqualTo(3);
    }

    @Test
    void otherCommandsKeepOneBlasThread() {
        assertThat(NativeEnvironment.blasThreads(new String[] {"agent", "--devices", "1"}))
                .isEqualTo(1);
    }
}
