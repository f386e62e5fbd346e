package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.Runner;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists the runners with their state, devices and jobs. */
@Command(name = "runners", description = "List runners: state, devices in use and the jobs they run.")
public class RunnersCommand extends ApiCommand {
    @Option(names = "--pool", description = "Only runners of this pool.")
    private String pool;

    @Override
    public Integer call() {
        List<Runner> runners = api().runners().listRunners(pool);
        Table t = new Table("ID", "NAME", "POOL", "STATE", "GPUS_USED", "GPUS_TOTAL", "JOBS", "LAST_HEARTBEAT");
        for (Runner r : runners) {
            String jobs = r.getRunningJobs().stream().map(String::valueOf).collect(Collectors.joining(","));
            t.add(
                    r.getId(),
                    r.getName(),
                    r.getPool(),
                    r.getState(),
                    r.getUsedGpus(),
                    r.getTotalGpus(),
                    jobs.isEmpty() ? null : jobs,
                    Formats.time(r.getLastHeartbeatAt()));
        }
        return print(runners, t);
    }
}
