package dev.trainyard.api.auth;

import dev.trainyard.api.error.ApiException;

/** The authenticated identity behind a request. */
public record Caller(long tokenId, String tokenName, Role role, Long projectId) {

    public boolean isAdmin() {
        return role == Role.ADMIN;
    }

    public void requireAdmin() {
        if (!isAdmin()) {
            throw new ApiException.Forbidden("Only an admin token may do this");
        }
    }

    /** True when the caller may see and act on things of this project. */
    public boolean canAccessProject(long project) {
        return isAdmin() || (role == Role.MEMBER && projectId != null && projectId == project);
    }
}
