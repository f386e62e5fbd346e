package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.SpecFile;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.LayoutProposal;
import dev.trainyard.client.model.Plan;
import dev.trainyard.client.model.PoolFit;
import java.nio.file.Path;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Dry run of a job spec: validation, the pool it would go to, its size and worst-case cost. */
@Command(name = "plan", description = "Dry run: validate a job spec and show where it would run and what it may cost.")
public class PlanCommand extends ApiCommand {
    @Parameters(paramLabel = "FILE.json", description = "The job spec.")
    private Path file;

    @Override
    public Integer call() {
        Plan plan = api().jobs().planJob(SpecFile.read(file, api().mapper()));
        if (json) {
            printJson(plan);
            return 0;
        }
        Table summary = new Table("", "")
                .add("chosen pool", plan.getChosenPool() == null ? "none fits" : plan.getChosenPool())
                .add("worst-case cost", Formats.usd(plan.getWorstCaseCostUsd()))
                .add("parameters", plan.getParameterCount())
                .add("stages", plan.getStages())
                .add(
                        "memory per stage",
                        plan.getMemoryPerStageBytes().stream()
                                .map(Formats::bytes)
                                .collect(Collectors.joining(", ")))
                .add("memory on the fullest device", Formats.bytes(plan.getMemoryPerDeviceBytes()));
        LayoutProposal proposal = plan.getProposal();
        if (proposal != null) {
            // the requested layout fits no runner: say what would, in the spec's own terms
            summary.add(
                    "layout that fits",
                    String.format(
                            "pool %s: tensorParallel %d, stages %d, dataParallel %d, zero %d, gpus %d%s (%s per device)",
                            proposal.getPool(),
                            proposal.getTensorParallel(),
                            proposal.getStages(),
                            proposal.getDataParallel(),
                            proposal.getZero(),
                            proposal.getGpus(),
                            Boolean.TRUE.equals(proposal.getMultiNode()) ? ", multiNode" : "",
                            Formats.bytes(proposal.getPerDeviceBytes())));
        }
        out().print(summary.renderRows());
        Table pools = new Table("POOL", "GPU_TYPE", "PRICE/H", "FREE/TOTAL", "FITS", "REASON");
        for (PoolFit p : plan.getPools()) {
            pools.add(
                    p.getPool(),
                    p.getGpuType(),
                    Formats.usd(p.getPricePerGpuHour()),
                    p.getFreeGpus() + "/" + p.getTotalGpus(),
                    Boolean.TRUE.equals(p.getFits()) ? "yes" : "no",
                    p.getReason());
        }
        out().println();
        out().print(pools.render());
        plan.getWarnings().forEach(w -> out().println("warning: " + w));
        out().flush();
        return 0;
    }
}
