package dev.trainyard.runner.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * One run's model inside a {@link TrainingEngine}: its plan, its stages on their devices, its optimizer state
 * and its collectives with other replicas. Called from the training thread only, one call at a time.
 */
public interface EngineSession extends AutoCloseable {

    /** How the model will be cut and placed; fixed once the session is open. */
    TrainingPlan plan();

    /** Places the planned stages on their devices; called once, after the plan was accepted. */
    void build();

    /** Loads parameters, buffers and optimizer moments from a checkpoint written with any stage count. */
    void restore(CheckpointState state);

    /**
     * Loads this process's part of the state from an open checkpoint, reading only the regions it holds where the
     * engine can (its tensor-parallel slices, its ZeRO slices); by default the whole state, as {@link #restore}.
     */
    default void restore(CheckpointReader checkpoint) {
        restore(checkpoint.whole());
    }

    /** Forward, backward, clipping and the optimizer update of one global batch (this process's rows). */
    StepOutcome trainStep(Batch batch, StepParameters parameters);

    /**
     * Each of this process's devices, its memory plan beside the training state its tensors held at the end of the
     * last step's backward; empty before the first step, or for an engine that does not measure.
     */
    default List<DeviceMemory> measuredMemory() {
        return List.of();
    }

    /** Mean loss of one held-out batch, without autograd or dropout. */
    double evaluate(Batch batch);

    /** Copies parameters, buffers and optimizer moments into Java memory, by global name (unsharded). */
    ModelState capture();

    /**
     * The state for a whole-file checkpoint, as {@link #capture()} but held where the engine can keep it off the
     * Java heap (native memory) until written; the writer {@link CapturedModel#release() releases} it. By default
     * {@link #capture()} in Java memory.
     */
    default CapturedModel captureForCheckpoint() {
        return CapturedModel.of(capture());
    }

    /**
     * This process's own part of the state, for its shard of a sharded checkpoint: no collective, each of the
     * {@code writers} data-parallel processes calls it for itself. By default an equal share of {@link #capture()}.
     */
    default ModelShard captureShard(int writer, int writers) {
        return ModelShard.share(capture(), writer, writers);
    }

    /**
     * This process's own part of the state for its shard, as {@link #captureShard} but held where the engine can keep
     * it off the Java heap until written; the writer {@link CapturedShard#release() releases} it. By default {@link
     * #captureShard} in Java memory.
     */
    default CapturedShard captureShardForCheckpoint(int writer, int writers) {
        return CapturedShard.of(captureShard(writer, writers));
    }

    /**
     * Whether {@link #capture()} is a collective of the data-parallel processes (their optimizer state is sharded
     * and gathered to be captured): then every process calls it for each checkpoint, not only the one that writes.
     */
    default boolean captureIsCollective() {
        return false;
    }

    /**
     * The stop every replica carries out: the largest of the replicas' requests (every replica must stop after
     * the same step, or the others would wait in a collective forever). A single replica returns its own.
     */
    StopRequest agree(StopRequest local);

    /**
     * Called instead of {@link #export} by a process that does not write the outputs, once, at the end: where the
     * writer's export gathers state from the other processes (a pipeline spread over processes), they send theirs.
     */
    default void joinExport() {}

    /** Writes the trained weights into {@code directory} and returns the main weights file. */
    Path export(Path directory);

    /** Releases threads and devices; the session is unusable afterwards. */
    @Override
    void close();
}
