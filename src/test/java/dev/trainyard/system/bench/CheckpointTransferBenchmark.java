package dev.trainyard.system.bench;

import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Checkpoint upload (PUT with its SHA-256 through a live attempt) and download (the runner's resume endpoint)
 * on loopback, for files of a few sizes; the upload figure includes the API's SHA-256 check and its write to
 * disk, the download figure the API reading the file. MB = 10^6 bytes.
 *
 * <p>Settings: bench.sizesMiB (comma list, "64,512"), bench.repeats (3).
 */
public final class CheckpointTransferBenchmark {
    private static final String SIZES = System.getProperty("bench.sizesMiB", "64,512");
    private static final int REPEATS = Integer.getInteger("bench.repeats", 3);

    public static void main(String[] args) throws Exception {
        BenchPlatform.measure("Checkpoint transfer on loopback", "bench_checkpoints", CheckpointTransferBenchmark::run);
    }

    private static void run(Platform platform) throws Exception {
        ProtocolClient api = new ProtocolClient(platform);
        LiveAttempts live = LiveAttempts.obtain(api, "checkpoints", 1);
        ProtocolClient.Assignment attempt = live.attempts().get(0);
        AtomicBoolean stop = new AtomicBoolean();
        Thread beats = live.keepAlive(stop, 1800);
        Figures.Table table =
                new Figures.Table("size MiB", "run", "upload s", "upload MB/s", "download s", "download MB/s");
        long step = 0;
        try {
            for (String s : SIZES.split(",")) {
                int mib = Integer.parseInt(s.trim());
                Path file = Repository.output("bench-checkpoint-files").resolve("checkpoint-" + mib + "MiB.bin");
                String sha = write(file, mib);
                try {
                    for (int r = 1; r <= REPEATS; r++) {
                        long bytes = Files.size(file);
                        long t0 = System.nanoTime();
                        long id = api.uploadCheckpoint(attempt, ++step, sha, file);
                        double up = (System.nanoTime() - t0) / 1e9;
                        long t1 = System.nanoTime();
                        ProtocolClient.Download d = api.downloadCheckpoint(attempt, id);
                        double down = (System.nanoTime() - t1) / 1e9;
                        if (d.bytes() != bytes || !d.sha256().equalsIgnoreCase(sha)) {
                            throw new IllegalStateException("download of checkpoint " + id + " gave " + d.bytes()
                                    + " bytes, SHA-256 " + d.sha256());
                        }
                        table.row(
                                mib,
                                r,
                                Figures.ms(up),
                                Figures.num(bytes / up / 1e6),
                                Figures.ms(down),
                                Figures.num(bytes / down / 1e6));
                    }
                } finally {
                    Files.deleteIfExists(file);
                }
            }
        } finally {
            stop.set(true);
            beats.join(5000);
            live.end();
        }
        System.out.println();
        table.print();
    }

    /** Writes {@code mib} MiB of seeded random bytes; returns their SHA-256 in hex. */
    private static String write(Path file, int mib) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(mib);
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < mib; i++) {
                random.nextBytes(chunk);
                sha.update(chunk);
                out.write(chunk);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
