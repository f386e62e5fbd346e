package dev.trainyard.api.pools;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.time.InstantSource;
import java.util.List;

/** Rules of pools: admins create them, price them and set what their jobs may read; everyone signed in may read them. */
@ApplicationScoped
public class PoolService {
    /** The document's maximum of pricePerGpuHour. */
    static final String MAX_PRICE = "100000";

    /** The document's maximum of peakFlopsPerDevice: far above any device today (an H100 is about 1e15). */
    static final String MAX_PEAK_FLOPS = "1000000000000000000";

    private final PoolRepository pools;
    private final InstantSource clock;

    public PoolService(PoolRepository pools, InstantSource clock) {
        this.pools = pools;
        this.clock = clock;
    }

    @Transactional
    public PoolView create(Caller caller, PoolRequests.Create request) {
        caller.requireAdmin();
        Violations v = new Violations();
        if (request == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("name", request.name())) {
            v.checkResourceName("name", request.name());
        }
        if (v.require("gpuType", request.gpuType())
                && (request.gpuType().isBlank() || request.gpuType().length() > 64)) {
            v.add("gpuType", "must be 1-64 characters");
        }
        checkPrice(request.pricePerGpuHour(), v);
        v.checkBounds(
                "peakFlopsPerDevice", request.peakFlopsPerDevice(), PoolRequests.Create.class, "peakFlopsPerDevice");
        DataAccessPolicy dataAccess = request.dataAccess() == null ? DataAccessPolicy.none() : request.dataAccess();
        dataAccess.validate("dataAccess", v);
        v.throwIfAny();
        if (pools.findByName(request.name()).isPresent()) {
            throw new ApiException.Conflict(ProblemType.ALREADY_EXISTS, "A pool named '" + request.name() + "' exists");
        }
        PoolEntity p = new PoolEntity();
        p.name = request.name();
        p.gpuType = request.gpuType();
        p.pricePerGpuHour = request.pricePerGpuHour();
        p.createdAt = clock.instant();
        p.peakFlopsPerDevice = request.peakFlopsPerDevice();
        p.setDataAccess(dataAccess);
        pools.insert(p);
        return view(p);
    }

    @Transactional
    public PoolView update(Caller caller, String name, PoolRequests.Update request) {
        caller.requireAdmin();
        PoolEntity p = pools.findByName(name).orElseThrow(() -> new ApiException.NotFound("pool", name));
        Violations v = new Violations();
        if (request == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (request.pricePerGpuHour() == null && request.dataAccess() == null && request.peakFlopsPerDevice() == null) {
            v.add("pricePerGpuHour", "is required unless dataAccess or peakFlopsPerDevice is given");
        }
        if (request.pricePerGpuHour() != null) {
            checkPrice(request.pricePerGpuHour(), v);
        }
        if (request.dataAccess() != null) {
            request.dataAccess().validate("dataAccess", v);
        }
        v.checkBounds(
                "peakFlopsPerDevice", request.peakFlopsPerDevice(), PoolRequests.Update.class, "peakFlopsPerDevice");
        v.throwIfAny();
        if (request.pricePerGpuHour() != null) {
            p.pricePerGpuHour = request.pricePerGpuHour();
        }
        if (request.dataAccess() != null) {
            p.setDataAccess(request.dataAccess());
        }
        if (request.peakFlopsPerDevice() != null) {
            // 0 clears the declaration: MFU against no figure is better than MFU against a made-up one
            p.peakFlopsPerDevice = request.peakFlopsPerDevice() > 0 ? request.peakFlopsPerDevice() : null;
        }
        return view(p);
    }

    @Transactional
    public List<PoolView> list() {
        return pools.all().stream().map(this::view).toList();
    }

    @Transactional
    public PoolView get(String name) {
        return view(pools.findByName(name).orElseThrow(() -> new ApiException.NotFound("pool", name)));
    }

    private static void checkPrice(BigDecimal price, Violations v) {
        if (v.require("pricePerGpuHour", price)) {
            v.checkBounds("pricePerGpuHour", price, PoolRequests.Create.class, "pricePerGpuHour");
        }
    }

    private PoolView view(PoolEntity p) {
        PoolRepository.Capacity c = pools.capacity(p.id);
        return new PoolView(
                p.id,
                p.name,
                p.gpuType,
                p.pricePerGpuHour,
                c.runners(),
                c.totalGpus(),
                c.usedGpus(),
                p.createdAt,
                p.peakFlopsPerDevice,
                p.dataAccess());
    }
}
