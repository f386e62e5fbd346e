package dev.trainyard.runner.engine;

/** The plan's estimated memory exceeds what the devices have; the message says by how much and what to try. */
public final class MemoryPlanException extends RuntimeException {

    public MemoryPlanException(String message) {
        super(message);
    }
}
