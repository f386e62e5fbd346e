package dev.trainyard.api.config;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.InstantSource;

/** The clock every service uses, injected so tests can control time. */
public class Clocks {
    @Produces
    @Singleton
    InstantSource systemClock() {
        return InstantSource.system();
    }
}
