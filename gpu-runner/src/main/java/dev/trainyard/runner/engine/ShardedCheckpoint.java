package dev.trainyard.runner.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint written as one shard per process, without gathering: {@code step-NNNNNNNN.shard-R-of-N.safetensors},
 * each beside its own manifest (SHA-256, size, shard number and count). A shard holds the pieces its process owns,
 * each labelled in the header with its global tensor name, global shape and region, plus the run's position (step,
 * data position, seed, the layout it was written at). Reading needs every shard of the step, each matching its
 * manifest; a process restoring under any layout then reads, from the pieces, only the regions it holds.
 */
public final class ShardedCheckpoint {

    public static final String FORMAT = "trainyard-sharded-checkpoint-1";
    private static final Pattern SHARD_FILE =
            Pattern.compile("step-(\\d+)\\.shard-(\\d+)-of-(\\d+)(\\.safetensors|\\.manifest\\.json)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ShardedCheckpoint() {}

    /** What each shard of a checkpoint says about the run besides its pieces. */
    public record Header(
            long step,
            long dataPosition,
            long optimizerStep,
            long seed,
            int stagesWrittenWith,
            String specJson,
            String layout,
            int shard,
            int shards) {}

    /** The file name, without suffix, of shard {@code shard} of {@code shards} at {@code step}. */
    static String baseName(long step, int shard, int shards) {
        return String.format("step-%08d.shard-%d-of-%d", step, shard, shards);
    }

    /** Whether {@code file} is (the data or manifest of) a shard of a sharded checkpoint. */
    public static boolean isShard(Path file) {
        return SHARD_FILE.matcher(file.getFileName().toString()).matches();
    }

    /** The pieces as the tensors of the shard's safetensors file, in order; their labels go in {@link #metadata}. */
    static List<CapturedTensor> fileTensors(List<CapturedPiece> pieces) {
        List<CapturedTensor> tensors = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            CapturedPiece p = pieces.get(i);
            tensors.add(new CapturedTensor(pieceKey(i), p.region().lengths(), p.values()));
        }
        return tensors;
    }

    static Map<String, String> metadata(Header header, List<CapturedPiece> pieces) {
        ArrayNode labels = JSON.createArrayNode();
        for (CapturedPiece p : pieces) {
            ObjectNode label = labels.addObject().put("name", p.name());
            long[] shape = p.shape();
            ArrayNode s = label.putArray("shape");
            for (long d : shape) {
                s.add(d);
            }
            ArrayNode o = label.putArray("offsets");
            for (long d : p.region().offsets()) {
                o.add(d);
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(header.step()));
        meta.put("dataPosition", Long.toString(header.dataPosition()));
        meta.put("optimizerStep", Long.toString(header.optimizerStep()));
        meta.put("seed", Long.toString(header.seed()));
        meta.put("stages", Integer.toString(header.stagesWrittenWith()));
        meta.put("spec", header.specJson());
        meta.put("layout", header.layout());
        meta.put("shard", Integer.toString(header.shard()));
        meta.put("shards", Integer.toString(header.shards()));
        meta.put("pieces", labels.toString());
        return meta;
    }

    /**
     * Opens the checkpoint that {@code anyShard} (a shard's data file or manifest) belongs to: every shard of its
     * step must lie beside it with its manifest and the manifest's size (its SHA-256 is checked by {@link
     * CheckpointReader#verify} with the bytes read), and their pieces must tile every tensor; a missing or altered
     * shard is refused, never half-loaded. Only the headers are read: a restore then reads the pieces it needs.
     */
    static CheckpointReader open(Path anyShard) {
        Matcher m = SHARD_FILE.matcher(anyShard.getFileName().toString());
        if (!m.matches()) {
            throw new CheckpointIntegrityException(anyShard + " is not a shard of a sharded checkpoint");
        }
        long step = Long.parseLong(m.group(1));
        int shards = Integer.parseInt(m.group(3));
        List<Path> files = shardFiles(anyShard.toAbsolutePath().getParent(), step, shards);
        List<CheckedFile> channels = new ArrayList<>();
        try {
            Map<String, String> first = null;
            List<CheckpointReader.Located> pieces = new ArrayList<>();
            for (Path data : files) {
                CheckedFile channel = CheckpointStore.openChecked(data);
                channels.add(channel);
                SafetensorsFormat.Header header = SafetensorsFormat.readHeader(channel, data);
                Map<String, String> meta = header.metadata();
                requireSameRun(data, first == null ? meta : first, meta);
                first = first == null ? meta : first;
                pieces.addAll(pieces(header, data, channel));
            }
            return new CheckpointReader(first, pieces, channels);
        } catch (IOException | RuntimeException e) {
            channels.forEach(CheckedFile::close);
            throw CheckpointStore.failedRead(anyShard, e);
        }
    }

    /** Every shard's data file of the checkpoint of {@code step}; refused, naming them, when some are missing. */
    private static List<Path> shardFiles(Path directory, long step, int shards) {
        List<Integer> missing = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (int shard = 0; shard < shards; shard++) {
            Path data = directory.resolve(baseName(step, shard, shards) + ".safetensors");
            if (!Files.exists(data) || !Files.exists(CheckpointStore.manifestOf(data))) {
                missing.add(shard);
            }
            files.add(data);
        }
        if (!missing.isEmpty()) {
            throw new CheckpointIntegrityException("sharded checkpoint of step " + step + " in " + directory
                    + " lacks shard(s) " + missing + " of " + shards + ": refusing a partial restore");
        }
        return files;
    }

    private static void requireSameRun(Path data, Map<String, String> first, Map<String, String> meta) {
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CheckpointIntegrityException(
                    data + " is not a shard of a Trainyard checkpoint (format " + meta.get("format") + ")");
        }
        if (!first.get("step").equals(meta.get("step"))
                || !first.get("dataPosition").equals(meta.get("dataPosition"))) {
            throw new CheckpointIntegrityException(data + " belongs to another run position than shard 0");
        }
    }

    /** The shard's pieces as its header labels them: global name, shape and region, and where their values lie. */
    private static List<CheckpointReader.Located> pieces(
            SafetensorsFormat.Header header, Path file, CheckedFile channel) {
        try {
            JsonNode labels = JSON.readTree(header.metadata().get("pieces"));
            Map<String, SafetensorsFormat.Entry> byKey = new LinkedHashMap<>();
            header.entries().forEach(e -> byKey.put(e.name(), e));
            List<CheckpointReader.Located> pieces = new ArrayList<>();
            for (int i = 0; i < labels.size(); i++) {
                JsonNode label = labels.get(i);
                SafetensorsFormat.Entry values = byKey.get(pieceKey(i));
                if (values == null) {
                    throw new CheckpointIntegrityException(file + " lists piece " + i + " but does not hold it");
                }
                long[] shape = longs(label.get("shape"));
                TensorRegion region = new TensorRegion(longs(label.get("offsets")), values.shape());
                if (!region.fits(shape)) {
                    throw new CheckpointIntegrityException(
                            file + ": piece " + i + " (" + region + ") lies outside its tensor's shape");
                }
                pieces.add(new CheckpointReader.Located(
                        label.get("name").asText(), shape, region, channel, values.position()));
            }
            return pieces;
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointIntegrityException c) {
                throw c;
            }
            throw new CheckpointIntegrityException("cannot read the pieces of " + file + ": " + e.getMessage(), e);
        }
    }

    private static String pieceKey(int index) {
        return String.format("piece-%06d", index);
    }

    private static long[] longs(JsonNode array) {
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asLong();
        }
        return values;
    }
}
