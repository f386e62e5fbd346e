package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.Pool;
import java.util.List;
import picocli.CommandLine.Command;

/** Lists the pools with their price and devices. */
@Command(name = "pools", description = "List pools: GPU type, price, runners and devices in use.")
public class PoolsCommand extends ApiCommand {
    @Override
    public Integer call() {
        List<Pool> pools = api().pools().listPools();
        Table t = new Table("NAME", "GPU_TYPE", "PRICE/GPU-H", "RUNNERS", "GPUS_USED", "GPUS_TOTAL");
        for (Pool p : pools) {
            t.add(
                    p.getName(),
                    p.getGpuType(),
                    Formats.usd(p.getPricePerGpuHour()),
                    p.getRunners(),
                    p.getUsedGpus(),
                    p.getTotalGpus());
        }
        return print(pools, t);
    }
}
