package dev.trainyard.runner.engine;

/** One unit of pipeline work on a stage: the forward or backward pass of one micro-batch. */
public record PipelineOp(Pass pass, int microBatch) {

    /** Direction of the pass. */
    public enum Pass {
        FORWARD,
        BACKWARD
    }

    public static PipelineOp forward(int microBatch) {
        return new PipelineOp(Pass.FORWARD, microBatch);
    }

    public static PipelineOp backward(int microBatch) {
        return new PipelineOp(Pass.BACKWARD, microBatch);
    }

    @Override
    public String toString() {
        return (pass == Pass.FORWARD ? "F" : "B") + microBatch;
    }
}
