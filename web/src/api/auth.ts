// Browser sign-in: session cookie plus CSRF token (docs/api.md "Browser sessions").
import { request_json, set_csrf_token } from "./http";
import type { Session } from "./types";

export async function login(email: string, password: string): Promise<Session> {
    const session = await request_json<Session>("/api/auth/login", {
        method: "POST",
        body: { email, password },
        quiet_unauthenticated: true,
    });
    set_csrf_token(session.csrf_token);
    return session;
}

export async function fetch_me(signal?: AbortSignal): Promise<Session> {
    const session = await request_json<Session>("/api/auth/me", { signal, quiet_unauthenticated: true });
    set_csrf_token(session.csrf_token);
    return session;
}

export async function logout(): Promise<void> {
    try {
        await request_json<void>("/api/auth/logout", { method: "POST", quiet_unauthenticated: true });
    } finally {
        set_csrf_token(null);
    }
}
