package dev.trainyard.api.jobs;

import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.spec.DataAccessRefusal;
import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelSpec;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Refuses, at submission, a job whose {@code data.uri} or {@code model.uri} the data access policy of a pool it may
 * run in forbids, as far as the URI's text tells; the runner checks the rest (links, DNS, redirects, size).
 */
@ApplicationScoped
public class DataUriCheck {
    private final PoolRepository pools;

    public DataUriCheck(PoolRepository pools) {
        this.pools = pools;
    }

    /**
     * Throws a {@link ProblemType#DATA_ACCESS_DENIED} problem naming each refused field and rule. A job bound to a
     * pool is checked against that pool; a job asking only for a GPU type against every pool of that type, since
     * the scheduler may place it in any of them.
     */
    public void requireReadable(JobSpec spec, PoolEntity pool) {
        Map<String, String> uris = urisOf(spec);
        if (uris.isEmpty()) {
            return;
        }
        List<PoolEntity> candidates =
                pool != null ? List.of(pool) : pools.byGpuType(spec.resources().gpuType());
        List<FieldViolation> refused = new ArrayList<>();
        for (var uri : uris.entrySet()) {
            for (PoolEntity candidate : candidates) {
                Optional<DataAccessRefusal> refusal = candidate.dataAccess().check(uri.getValue());
                if (refusal.isPresent()) {
                    refused.add(new FieldViolation(
                            uri.getKey(),
                            "pool '" + candidate.name + "': " + refusal.get().ruleAndReason()));
                    break;
                }
            }
        }
        if (!refused.isEmpty()) {
            throw new ApiException.InvalidInput(
                    ProblemType.DATA_ACCESS_DENIED,
                    refused.get(0).field() + " " + uris.get(refused.get(0).field()) + ": "
                            + refused.get(0).message(),
                    refused);
        }
    }

    /** The URIs a spec makes its runner read, by field. */
    static Map<String, String> urisOf(JobSpec spec) {
        Map<String, String> uris = new LinkedHashMap<>();
        if (spec.model() instanceof ModelSpec.TorchScript script) {
            uris.put("model.uri", script.uri());
        }
        if (spec.data() instanceof DataSpec.Text text) {
            uris.put("data.uri", text.uri());
        } else if (spec.data() instanceof DataSpec.Table table) {
            uris.put("data.uri", table.uri());
        }
        return uris;
    }
}
