package dev.trainyard.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Creates token secrets and hashes them; only hashes are ever stored. */
public final class TokenSecrets {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PREFIX = "ty_";

    private TokenSecrets() {}

    /** A new secret: "ty_" and 32 random bytes, URL-safe base64. */
    public static String newSecret() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The first characters, safe to show in listings so people can tell tokens apart. */
    public static String displayPrefix(String secret) {
        return secret.substring(0, Math.min(10, secret.length()));
    }
}
