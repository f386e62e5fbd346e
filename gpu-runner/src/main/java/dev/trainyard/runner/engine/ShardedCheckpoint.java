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
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint written as one shard per process, without gathering: {@code step-NNNNNNNN.shard-R-of-N.safetensors},
 * each beside its own manifest (SHA-256, size, shard number and count). A shard holds the pieces its process owns,
 * each labelled in the header with its global tensor name, global shape and region, plus the run's position (step,
 * data position, seed, the layout it was written at). Reading needs every shard of the step, each matching its
 * manifest; the pieces are then put together into whole tensors, which any layout slices as it needs.
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
    static List<HostTensor> fileTensors(List<TensorPiece> pieces) {
        List<HostTensor> tensors = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            TensorPiece p = pieces.get(i);
            tensors.add(new HostTensor(pieceKey(i), p.region().lengths(), p.data()));
        }
        return tensors;
    }

    static Map<String, String> metadata(Header header, List<TensorPiece> pieces) {
        ArrayNode labels = JSON.createArrayNode();
        for (TensorPiece p : pieces) {
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
     * Loads the checkpoint that {@code anyShard} (a shard's data file or manifest) belongs to: every shard of its
     * step must lie beside it and match its manifest; a missing or altered shard is refused, never half-loaded.
     */
    static CheckpointState load(Path anyShard) {
        Matcher m = SHARD_FILE.matcher(anyShard.getFileName().toString());
        if (!m.matches()) {
            throw new CheckpointIntegrityException(anyShard + " is not a shard of a sharded checkpoint");
        }
        long step = Long.parseLong(m.group(1));
        int shards = Integer.parseInt(m.group(3));
        Path directory = anyShard.toAbsolutePath().getParent();
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
        Map<String, String> first = null;
        List<TensorPiece> pieces = new ArrayList<>();
        for (Path data : files) {
            SafetensorsFormat.Contents contents = CheckpointStore.readVerified(data);
            Map<String, String> meta = contents.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointIntegrityException(
                        data + " is not a shard of a Trainyard checkpoint (format " + meta.get("format") + ")");
            }
            if (first == null) {
                first = meta;
            } else if (!first.get("step").equals(meta.get("step"))
                    || !first.get("dataPosition").equals(meta.get("dataPosition"))) {
                throw new CheckpointIntegrityException(data + " belongs to another run position than shard 0");
            }
            pieces.addAll(pieces(contents, data));
        }
        return state(first, assemble(pieces));
    }

    private static List<TensorPiece> pieces(SafetensorsFormat.Contents contents, Path file) {
        try {
            JsonNode labels = JSON.readTree(contents.metadata().get("pieces"));
            Map<String, HostTensor> byKey = new LinkedHashMap<>();
            contents.tensors().forEach(t -> byKey.put(t.name(), t));
            List<TensorPiece> pieces = new ArrayList<>();
            for (int i = 0; i < labels.size(); i++) {
                JsonNode label = labels.get(i);
                HostTensor values = byKey.get(pieceKey(i));
                if (values == null) {
                    throw new CheckpointIntegrityException(file + " lists piece " + i + " but does not hold it");
                }
                long[] shape = longs(label.get("shape"));
                TensorRegion region = new TensorRegion(longs(label.get("offsets")), values.shape());
                pieces.add(new TensorPiece(label.get("name").asText(), shape, region, values.data()));
            }
            return pieces;
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointIntegrityException c) {
                throw c;
            }
            throw new CheckpointIntegrityException("cannot read the pieces of " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whole tensors from pieces, by global name: each piece copied into its region. Every element must be covered
     * exactly once (the pieces of all shards tile each tensor), or the checkpoint is refused.
     */
    static Map<String, HostTensor> assemble(List<TensorPiece> pieces) {
        Map<String, HostTensor> whole = new TreeMap<>();
        Map<String, Long> covered = new LinkedHashMap<>();
        for (TensorPiece p : pieces) {
            HostTensor target = whole.computeIfAbsent(
                    p.name(),
                    n -> new HostTensor(
                            n,
                            p.shape(),
                            new float[(int) TensorRegion.whole(p.shape()).elements()]));
            if (!java.util.Arrays.equals(target.shape(), p.shape())) {
                throw new CheckpointIntegrityException("pieces of " + p.name() + " disagree on its shape");
            }
            TensorRegion.copyOverlap(p.region(), p.data(), TensorRegion.whole(p.shape()), target.data());
            covered.merge(p.name(), p.region().elements(), Long::sum);
        }
        whole.forEach((name, t) -> {
            if (covered.get(name) != t.data().length) {
                throw new CheckpointIntegrityException("the shards hold " + covered.get(name) + " of the "
                        + t.data().length + " elements of " + name + ": refusing a partial restore");
            }
        });
        return whole;
    }

    private static CheckpointState state(Map<String, String> meta, Map<String, HostTensor> tensors) {
        return CheckpointState.of(meta, tensors.values());
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
