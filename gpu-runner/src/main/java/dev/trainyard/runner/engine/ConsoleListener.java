package dev.trainyard.runner.engine;

import java.io.PrintStream;

/** Prints plan, progress, evaluations and checkpoints as plain lines (the offline command line's listener). */
public final class ConsoleListener implements TrainingListener {

    private final PrintStream out;

    public ConsoleListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onPlan(TrainingPlan plan) {
        out.printf(
                "plan: %d parameters, %d stage(s), schedule %s, %d micro-batch(es), recompute %s, %d thread(s)"
                        + " per stage%n",
                plan.totalParameters(),
                plan.stages().size(),
                plan.schedule().specName(),
                plan.microBatches(),
                plan.recompute(),
                plan.threadsPerStage());
        for (StagePlan stage : plan.stages()) {
            out.printf(
                    "  stage %d on %s: blocks [%d, %d), %d parameters, estimated peak %s%n",
                    stage.range().stage(),
                    stage.device(),
                    stage.range().firstBlock(),
                    stage.range().endBlock(),
                    stage.parameters(),
                    stage.memory());
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        out.printf(
                "step %d loss %.4f lr %.2e grad-norm %.3f %.0f tokens/s %.1f ms bubble %.0f%% peak-rss %.0f MiB%n",
                m.step(),
                m.loss(),
                m.learningRate(),
                m.gradNorm(),
                m.tokensPerSecond(),
                m.stepSeconds() * 1000,
                m.bubbleFraction() * 100,
                m.peakRssBytes() / 1048576.0);
        m.modelFlopsUtilization().ifPresent(mfu -> out.printf("  mfu %.1f%%%n", mfu * 100));
        for (int s = 0; s < m.stageTimes().size(); s++) {
            StageTime t = m.stageTimes().get(s);
            out.printf(
                    "  stage %d: compute %.1f ms, bubble %.1f ms, comm %.1f ms of %.1f ms%n",
                    s,
                    t.computeSeconds() * 1000,
                    t.bubbleSeconds() * 1000,
                    t.communicationSeconds() * 1000,
                    t.wallSeconds() * 1000);
        }
    }

    @Override
    public void onEval(EvalMetrics m) {
        out.printf("eval step %d loss %.4f%n", m.step(), m.evalLoss());
    }

    @Override
    public void onCheckpoint(CheckpointWritten c) {
        out.printf("checkpoint step %d %s (%d bytes, sha256 %s)%n", c.step(), c.path(), c.bytes(), c.sha256());
    }

    @Override
    public void onProcessMemory(long step, ProcessMemory m) {
        // one line with whole numbers, for scripts and the memory plan's check
        out.printf(
                "activations: %d device(s), measured %d bytes, plan %d bytes%n",
                m.devices(), m.measuredActivationBytes(), m.planActivationBytes());
    }

    @Override
    public void onLog(String line) {
        out.println(line);
    }
}
