// The top bar: brand, page links, team switcher (only when the user has several teams), theme and sign out.
import type { Session, Team } from "../../api/types";
import { focusable_within } from "../../components/Dialog";
import { MoonIcon, SunIcon } from "../../components/icons";
import { on_link_click } from "../../lib/router";
import { use_theme } from "../../lib/theme";

interface TopBarProps {
    session: Session;
    team: Team;
    pathname: string;
    on_switch_team(id: string): void;
    on_sign_out(): void;
}

/** Keyboard users jump past the top bar: to the SQL editor when it is shown, else the page's first control. */
function skip_to_main(event: React.MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    const main = document.querySelector<HTMLElement>(".main");
    const target = main?.querySelector<HTMLElement>(".cm-content") ?? (main ? focusable_within(main)[0] : undefined);
    target?.focus();
}

export function TopBar({ session, team, pathname, on_switch_team, on_sign_out }: TopBarProps) {
    const [theme, toggle_theme] = use_theme();
    const link = (to: string, label: string, active: boolean) => (
        <a href={to} aria-current={active ? "page" : undefined} onClick={(event) => on_link_click(event, to)}>
            {label}
        </a>
    );
    return (
        <header className="topbar">
            <a href="#main" className="skip-link" onClick={skip_to_main}>
                Skip to main content
            </a>
            <a href="/sql" className="brand" onClick={(event) => on_link_click(event, "/sql")}>
                <img src="/favicon.svg" alt="" />
                MetaHog
            </a>
            <nav className="nav" aria-label="Pages">
                {link("/sql", "SQL editor", pathname === "/sql" || pathname === "/")}
                {link("/sources", "Databases", pathname.startsWith("/sources"))}
                {team.role === "admin" && link("/team", "Team", pathname.startsWith("/team"))}
                {team.role === "admin" && link("/audit", "Audit log", pathname.startsWith("/audit"))}
            </nav>
            <div className="topbar-right">
                {session.teams.length > 1 ? (
                    <select className="select select-sm" aria-label="Team" value={String(team.id)} onChange={(event) => on_switch_team(event.target.value)} data-testid="team-switcher">
                        {session.teams.map((candidate) => (
                            <option key={String(candidate.id)} value={String(candidate.id)}>
                                {candidate.name}
                            </option>
                        ))}
                    </select>
                ) : (
                    <span className="muted" style={{ fontSize: 13 }} title="Team">
                        {team.name}
                    </span>
                )}
                <button
                    type="button"
                    className="icon-btn"
                    onClick={toggle_theme}
                    aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
                    title={theme === "dark" ? "Light theme" : "Dark theme"}
                >
                    {theme === "dark" ? <SunIcon /> : <MoonIcon />}
                </button>
                <span className="user-email">{session.user.email}</span>
                <button type="button" className="btn btn-sm" onClick={on_sign_out}>
                    Sign out
                </button>
            </div>
        </header>
    );
}
