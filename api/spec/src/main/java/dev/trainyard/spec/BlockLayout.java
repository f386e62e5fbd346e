package dev.trainyard.spec;

/**
 * One block of a model as the planner sees it: its parameter count, the floats it keeps for backward per
 * sample, the floats of its output per sample (what crosses to the next stage) and the elements of its largest
 * parameter tensor (which sets how large the data-parallel exchange's gradient buckets get).
 */
public record BlockLayout(
        int index,
        String kind,
        long parameters,
        long activationFloatsPerSample,
        long outputFloatsPerSample,
        long largestTensor) {

    /** A block whose tensors are not known one by one: its largest tensor is taken to be all its parameters. */
    public BlockLayout(
            int index, String kind, long parameters, long activationFloatsPerSample, long outputFloatsPerSample) {
        this(index, kind, parameters, activationFloatsPerSample, outputFloatsPerSample, parameters);
    }
}
