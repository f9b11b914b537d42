// The team's audit log for its admins: every query and change, filtered, newest first, a page at a time.
import { Fragment, useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { error_message, is_abort } from "../../api/http";
import type { TeamId } from "../../api/types";
import { format_duration } from "../../lib/format";
import { source_name, use_sources } from "../sources/sources_context";
import { audit_actions, audit_outcomes, empty_filters, fetch_audit_page, type AuditFilters, type AuditRecord } from "./audit_api";
import "./audit.css";

const sql_preview_chars = 120;

function outcome_class(outcome: string): string {
    if (outcome === "ok") {
        return "status ok";
    }
    if (outcome === "error" || outcome === "refused") {
        return "status bad";
    }
    return "status warn";
}

function preview(sql: string): string {
    const flat = sql.replace(/\s+/g, " ").trim();
    return flat.length > sql_preview_chars ? flat.slice(0, sql_preview_chars) + "…" : flat;
}

interface LoadState {
    records: AuditRecord[];
    next_before_id: number | null;
    loading: boolean;
    error: string | null;
}

export function AuditPage({ team_id }: { team_id: TeamId }) {
    const { sources } = use_sources();
    const [draft, set_draft] = useState<AuditFilters>(empty_filters);
    const [applied, set_applied] = useState<AuditFilters>(empty_filters);
    const [state, set_state] = useState<LoadState>({ records: [], next_before_id: null, loading: true, error: null });
    const [expanded, set_expanded] = useState<Set<number>>(new Set());
    // Users seen in any page so far: the filter offers them (there is no member list to read here).
    const [users, set_users] = useState<Map<number, string>>(new Map());
    const controller = useRef<AbortController | null>(null);

    const load = useCallback(
        async (filters: AuditFilters, before_id: number | null) => {
            controller.current?.abort();
            const abort = new AbortController();
            controller.current = abort;
            set_state((current) => ({ ...current, loading: true, error: null, records: before_id === null ? [] : current.records }));
            try {
                const page = await fetch_audit_page(team_id, filters, before_id, abort.signal);
                set_state((current) => ({
                    records: before_id === null ? page.results : [...current.records, ...page.results],
                    next_before_id: page.next_before_id,
                    loading: false,
                    error: null,
                }));
                set_users((current) => {
                    const next = new Map(current);
                    page.results.forEach((record) => next.set(record.user_id, record.user_email ?? `user ${record.user_id}`));
                    return next;
                });
            } catch (caught) {
                if (!is_abort(caught)) {
                    set_state((current) => ({ ...current, loading: false, error: error_message(caught) }));
                }
            }
        },
        [team_id],
    );

    useEffect(() => {
        void load(applied, null);
        return () => controller.current?.abort();
    }, [applied, load]);

    const apply = (event: FormEvent) => {
        event.preventDefault();
        set_expanded(new Set());
        set_applied({ ...draft });
    };
    const reset = () => {
        set_draft(empty_filters);
        set_expanded(new Set());
        set_applied({ ...empty_filters });
    };
    const toggle = (id: number) =>
        set_expanded((current) => {
            const next = new Set(current);
            if (next.has(id)) {
                next.delete(id);
            } else {
                next.add(id);
            }
            return next;
        });
    const field = (name: keyof AuditFilters) => ({
        value: draft[name],
        onChange: (event: { target: { value: string } }) => set_draft((current) => ({ ...current, [name]: event.target.value })),
    });
    const source_label = (id: string | null) => {
        if (!id) {
            return "—";
        }
        const known = sources.find((source) => source.id === id);
        return known ? source_name(known) : id.slice(0, 8);
    };
    const filtered = Object.values(applied).some((value) => value.trim() !== "");

    return (
        <main className="page audit-page">
            <div className="page-head">
                <div>
                    <h1>Audit log</h1>
                    <p>Every query and every change in this team: who, where, what, and how it went. Records cannot be edited or removed.</p>
                </div>
            </div>
            <form className="audit-filters" onSubmit={apply} aria-label="Audit log filters" data-testid="audit-filters">
                <label className="field">
                    <span>User</span>
                    <select className="select select-sm" {...field("user_id")}>
                        <option value="">Anyone</option>
                        {[...users.entries()].map(([id, email]) => (
                            <option key={id} value={String(id)}>
                                {email}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="field">
                    <span>Database</span>
                    <select className="select select-sm" {...field("source_id")}>
                        <option value="">Any</option>
                        {sources.map((source) => (
                            <option key={source.id} value={source.id}>
                                {source_name(source)}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="field">
                    <span>Action</span>
                    <select className="select select-sm" {...field("action")}>
                        <option value="">Any</option>
                        {audit_actions.map((action) => (
                            <option key={action} value={action}>
                                {action}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="field">
                    <span>Outcome</span>
                    <select className="select select-sm" {...field("outcome")}>
                        <option value="">Any</option>
                        {audit_outcomes.map((outcome) => (
                            <option key={outcome} value={outcome}>
                                {outcome}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="field">
                    <span>From</span>
                    <input className="input input-sm" type="datetime-local" {...field("from")} />
                </label>
                <label className="field">
                    <span>To</span>
                    <input className="input input-sm" type="datetime-local" {...field("to")} />
                </label>
                <label className="field audit-sql-filter">
                    <span>SQL contains</span>
                    <input className="input input-sm" type="search" placeholder="e.g. customer" {...field("sql_contains")} />
                </label>
                <div className="audit-filter-buttons">
                    <button type="submit" className="btn btn-sm btn-primary">
                        Apply
                    </button>
                    <button type="button" className="btn btn-sm" onClick={reset}>
                        Reset
                    </button>
                </div>
            </form>
            {state.error && (
                <div className="notice notice-error audit-notice" role="alert">
                    Could not load the audit log: {state.error}
                </div>
            )}
            {!state.error && !state.loading && state.records.length === 0 && (
                <div className="empty-state" data-testid="audit-empty">
                    <h2>{filtered ? "No record matches these filters" : "No records yet"}</h2>
                    <p>{filtered ? "Widen the time range or reset the filters." : "Queries and changes in this team will appear here."}</p>
                </div>
            )}
            {state.records.length > 0 && (
                <table className="table audit-table" data-testid="audit-table">
                    <thead>
                        <tr>
                            <th>Time</th>
                            <th>User</th>
                            <th>Database</th>
                            <th>Action</th>
                            <th>Outcome</th>
                            <th className="num">Duration</th>
                            <th className="num">Rows</th>
                            <th>SQL</th>
                        </tr>
                    </thead>
                    <tbody>
                        {state.records.map((record) => {
                            const open = expanded.has(record.id);
                            return (
                                <Fragment key={record.id}>
                                    <tr className={open ? "audit-row open" : "audit-row"}>
                                        <td className="nowrap" title={record.occurred_at}>
                                            {new Date(record.occurred_at).toLocaleString()}
                                        </td>
                                        <td>{record.user_email ?? `user ${record.user_id}`}</td>
                                        <td title={record.source_id ?? undefined}>{source_label(record.source_id)}</td>
                                        <td className="mono">{record.action}</td>
                                        <td>
                                            <span className={outcome_class(record.outcome)}>{record.outcome}</span>
                                            {record.error_code && <div className="faint mono audit-code">{record.error_code}</div>}
                                        </td>
                                        <td className="num">{format_duration(record.duration_ms)}</td>
                                        <td className="num">{record.rows_returned.toLocaleString("en-US")}</td>
                                        <td className="audit-sql">
                                            <button
                                                type="button"
                                                className="audit-expand"
                                                aria-expanded={open}
                                                onClick={() => toggle(record.id)}
                                                title={open ? "Hide details" : "Show the whole SQL and the details"}
                                            >
                                                <span className="mono">{record.sql ? preview(record.sql) : <span className="faint">(no SQL)</span>}</span>
                                                <span className="audit-chevron" aria-hidden="true">
                                                    {open ? "▾" : "▸"}
                                                </span>
                                            </button>
                                        </td>
                                    </tr>
                                    {open && (
                                        <tr className="audit-details-row">
                                            <td colSpan={8}>
                                                {record.sql && <pre className="audit-pre mono">{record.sql}</pre>}
                                                <dl className="audit-facts">
                                                    <dt>Record</dt>
                                                    <dd className="mono">#{record.id}</dd>
                                                    <dt>Started</dt>
                                                    <dd className="mono">{record.started_at}</dd>
                                                    <dt>Client</dt>
                                                    <dd className="mono">{record.client_address || "—"}</dd>
                                                    {record.fingerprint && (
                                                        <>
                                                            <dt>Fingerprint</dt>
                                                            <dd className="mono">{record.fingerprint}</dd>
                                                        </>
                                                    )}
                                                    {record.source_id && (
                                                        <>
                                                            <dt>Database id</dt>
                                                            <dd className="mono">{record.source_id}</dd>
                                                        </>
                                                    )}
                                                </dl>
                                                {Object.keys(record.details ?? {}).length > 0 && <pre className="audit-pre mono">{JSON.stringify(record.details, null, 2)}</pre>}
                                            </td>
                                        </tr>
                                    )}
                                </Fragment>
                            );
                        })}
                    </tbody>
                </table>
            )}
            <div className="audit-more">
                {state.loading && (
                    <span className="muted audit-loading">
                        <span className="spinner" /> Loading…
                    </span>
                )}
                {!state.loading && state.next_before_id !== null && (
                    <button type="button" className="btn" onClick={() => void load(applied, state.next_before_id)} data-testid="audit-load-more">
                        Load more
                    </button>
                )}
            </div>
        </main>
    );
}
