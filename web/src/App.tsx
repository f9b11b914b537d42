// The application shell: session gate, top bar, and the page for the current path.
import { useEffect } from "react";
import { ToastProvider } from "./components/toast";
import { AuditPage } from "./features/audit/AuditPage";
import { LoginPage } from "./features/auth/LoginPage";
import { SessionProvider, use_session } from "./features/auth/session";
import { EditorPage } from "./features/editor/EditorPage";
import { WorkbenchProvider } from "./features/editor/workbench_store";
import { TopBar } from "./features/layout/TopBar";
import { SourcesPage } from "./features/sources/SourcesPage";
import { SourcesProvider } from "./features/sources/sources_context";
import { TeamPage } from "./features/team/TeamPage";
import { navigate, use_location } from "./lib/router";

function Shell() {
    const { state, team, sign_out, switch_team } = use_session();
    const location = use_location();

    useEffect(() => {
        if (state.status === "signed_in" && (location.pathname === "/" || location.pathname === "/login")) {
            navigate("/sql" + location.search, true);
        }
    }, [state.status, location.pathname, location.search]);

    if (state.status === "loading") {
        return (
            <div className="splash">
                <span className="spinner" />
            </div>
        );
    }
    if (state.status === "signed_out") {
        return <LoginPage notice={state.notice} error={state.error} />;
    }
    if (!team) {
        return (
            <div className="splash">
                <div className="notice notice-warning">Your account is not a member of any team yet. Ask an administrator to add you.</div>
            </div>
        );
    }
    const team_key = String(team.id);
    return (
        <SourcesProvider key={"s" + team_key} team_id={team.id}>
            <WorkbenchProvider key={"w" + team_key} team_id={team.id}>
                <div className="shell">
                    <TopBar session={state.session} team={team} pathname={location.pathname} on_switch_team={switch_team} on_sign_out={() => void sign_out()} />
                    <div className="main">
                        {location.pathname.startsWith("/team") && team.role === "admin" ? (
                            <TeamPage team_id={team.id} />
                        ) : location.pathname.startsWith("/sources") ? (
                            <SourcesPage team_id={team.id} />
                        ) : location.pathname.startsWith("/audit") && team.role === "admin" ? (
                            <AuditPage team_id={team.id} />
                        ) : (
                            <EditorPage team_id={team.id} />
                        )}
                    </div>
                </div>
            </WorkbenchProvider>
        </SourcesProvider>
    );
}

export function App() {
    return (
        <ToastProvider>
            <SessionProvider>
                <Shell />
            </SessionProvider>
        </ToastProvider>
    );
}
