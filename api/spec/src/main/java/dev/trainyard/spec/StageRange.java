package dev.trainyard.spec;

/** The contiguous blocks {@code [firstBlock, endBlock)} that one pipeline stage owns. */
public record StageRange(int stage, int firstBlock, int endBlock) {

    public int blockCount() {
        return endBlock - firstBlock;
    }
}
