// Who is signed in and which team they work in; every team-scoped request reads the team from here.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { fetch_me, login as api_login, logout as api_logout } from "../../api/auth";
import { ApiError, set_unauthenticated_handler } from "../../api/http";
import type { Session, Team, TeamId } from "../../api/types";
import { read_text, write_text } from "../../lib/storage";

type SessionState =
    | { status: "loading" }
    | { status: "signed_out"; notice?: string; error?: string }
    | { status: "signed_in"; session: Session };

interface SessionApi {
    state: SessionState;
    team: Team | null;
    sign_in(email: string, password: string): Promise<void>;
    sign_out(): Promise<void>;
    switch_team(team_id: TeamId): void;
}

const SessionContext = createContext<SessionApi | null>(null);
const team_key = "metahog.team";

function pick_team(session: Session, wanted: string | null): Team | null {
    const by_wanted = session.teams.find((team) => String(team.id) === wanted);
    if (by_wanted) {
        return by_wanted;
    }
    return session.teams.find((team) => String(team.id) === String(session.default_team_id)) ?? session.teams[0] ?? null;
}

export function SessionProvider({ children }: { children: ReactNode }) {
    const [state, set_state] = useState<SessionState>({ status: "loading" });
    const [team_id, set_team_id] = useState<string | null>(() => read_text(team_key));

    useEffect(() => {
        const controller = new AbortController();
        fetch_me(controller.signal)
            .then((session) => set_state({ status: "signed_in", session }))
            .catch((error: unknown) => {
                if (controller.signal.aborted) {
                    return;
                }
                const message = error instanceof ApiError && error.status === 401 ? undefined : error instanceof Error ? error.message : String(error);
                set_state({ status: "signed_out", error: message });
            });
        return () => controller.abort();
    }, []);

    useEffect(() => {
        set_unauthenticated_handler(() => set_state({ status: "signed_out", notice: "Your session ended. Please sign in again." }));
        return () => set_unauthenticated_handler(null);
    }, []);

    const sign_in = useCallback(async (email: string, password: string) => {
        const session = await api_login(email, password);
        set_state({ status: "signed_in", session });
    }, []);

    const sign_out = useCallback(async () => {
        try {
            await api_logout();
        } catch {
            // The server could not end the session (unreachable, already expired): the app signs out all the same.
        }
        set_state({ status: "signed_out", notice: "You are signed out." });
    }, []);

    const switch_team = useCallback((id: TeamId) => {
        write_text(team_key, String(id));
        set_team_id(String(id));
    }, []);

    const team = state.status === "signed_in" ? pick_team(state.session, team_id) : null;
    const api = useMemo(() => ({ state, team, sign_in, sign_out, switch_team }), [state, team, sign_in, sign_out, switch_team]);
    return <SessionContext.Provider value={api}>{children}</SessionContext.Provider>;
}

export function use_session(): SessionApi {
    const api = useContext(SessionContext);
    if (!api) {
        throw new Error("use_session outside SessionProvider");
    }
    return api;
}
