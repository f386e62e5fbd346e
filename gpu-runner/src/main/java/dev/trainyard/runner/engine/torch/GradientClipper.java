package dev.trainyard.runner.engine.torch;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.function.UnaryOperator;

/**
 * Global gradient-norm clipping across stage threads: every stage hands in its per-parameter squared norms,
 * the last to arrive sums them in global parameter order (stage by stage, so the sum is the same for any
 * stage count) and all stages scale by the same factor.
 */
final class GradientClipper {

    private final double maxNorm;
    private final double[][] squares;
    private final CyclicBarrier barrier;
    private final UnaryOperator<double[][]> everyStage;
    private volatile double norm;
    private volatile double factor = 1;

    GradientClipper(int stages, double maxNorm) {
        this(stages, maxNorm, UnaryOperator.identity());
    }

    /**
     * @param everyStage turns this process's stages' squares into every stage's of the pipeline, in stage order,
     *     where the pipeline spans processes (see {@link PipelineLinks#allSquares})
     */
    GradientClipper(int stages, double maxNorm, UnaryOperator<double[][]> everyStage) {
        this.maxNorm = maxNorm;
        this.everyStage = everyStage;
        this.squares = new double[stages][];
        this.barrier = new CyclicBarrier(stages, this::combine);
    }

    /** Hands in one stage's squares, waits for all stages, returns the factor to scale gradients by. */
    double exchange(int stage, double[] stageSquares) throws InterruptedException {
        squares[stage] = stageSquares;
        try {
            barrier.await();
        } catch (BrokenBarrierException e) {
            throw new StageAbortedException("another stage failed during this step", e);
        }
        return factor;
    }

    double norm() {
        return norm;
    }

    /** Releases waiting stages when another stage failed. */
    void abort() {
        barrier.reset();
    }

    private void combine() {
        double total = 0;
        for (double[] stageSquares : everyStage.apply(squares)) {
            for (double square : stageSquares) {
                total += square;
            }
        }
        norm = Math.sqrt(total);
        factor = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
    }
}
