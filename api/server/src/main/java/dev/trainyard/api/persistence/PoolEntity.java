package dev.trainyard.api.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.spec.DataAccessPolicy;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A group of runners with one GPU type, one price per GPU-hour and one data access policy. */
@Entity
@Table(name = "pools")
public class PoolEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String name;

    @Column(name = "gpu_type", nullable = false)
    public String gpuType;

    @Column(name = "price_per_gpu_hour", nullable = false, precision = 16, scale = 6)
    public BigDecimal pricePerGpuHour;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** Peak FLOP/s of one device as the admin declares it; null when not declared (no MFU is reported). */
    @Column(name = "peak_flops_per_device")
    public Double peakFlopsPerDevice;

    /** Folders on the pool's runners under which its jobs may read files: a JSON array of strings. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "data_roots", nullable = false)
    public String dataRoots = "[]";

    /** Hosts the pool's jobs may download from: a JSON array of strings. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "allowed_hosts", nullable = false)
    public String allowedHosts = "[]";

    @Column(name = "allow_private_networks", nullable = false)
    public boolean allowPrivateNetworks;

    @Column(name = "max_download_bytes", nullable = false)
    public long maxDownloadBytes = DataAccessPolicy.DEFAULT_MAX_DOWNLOAD_BYTES;

    /** What the pool's jobs may read. */
    public DataAccessPolicy dataAccess() {
        return new DataAccessPolicy(strings(dataRoots), strings(allowedHosts), allowPrivateNetworks, maxDownloadBytes);
    }

    /** Replaces what the pool's jobs may read. */
    public void setDataAccess(DataAccessPolicy policy) {
        dataRoots = json(policy.dataRoots());
        allowedHosts = json(policy.allowedHosts());
        allowPrivateNetworks = policy.allowPrivateNetworks();
        maxDownloadBytes = policy.maxDownloadBytes();
    }

    // The columns hold plain string arrays: a mapper of its own keeps the REST layer's JSON settings out of them.
    private static final ObjectMapper LISTS = new ObjectMapper();

    private static List<String> strings(String array) {
        try {
            return List.of(LISTS.readValue(array, String[].class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("pool column is not a JSON array of strings: " + array, e);
        }
    }

    private static String json(List<String> strings) {
        try {
            return LISTS.writeValueAsString(strings);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
