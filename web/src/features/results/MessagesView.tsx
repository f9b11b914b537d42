// The result pane's Messages view: the database's error with detail, hint and position, or what the run did.
import type { QueryRun } from "../editor/query_run";
import { format_count, format_duration } from "../../lib/format";
import { line_column, character_position_to_offset } from "../../lib/sql_position";

interface MessagesViewProps {
    run: QueryRun | undefined;
    on_reveal(offset: number): void;
}

const code_titles: Record<string, string> = {
    query_failed: "The database reported an error",
    statement_refused: "MetaHog refused this statement",
    query_timeout: "The query ran too long and was stopped",
    query_cancelled: "The query was cancelled",
    source_connection_failed: "Could not connect to the database",
    busy: "The database is busy",
    rate_limited: "Too many queries",
    invalid_input: "The request was not valid",
    not_found: "Source not found",
    network: "Could not reach MetaHog",
};

export function MessagesView({ run, on_reveal }: MessagesViewProps) {
    if (!run) {
        return <div className="messages muted">Messages from the database appear here.</div>;
    }
    const started = new Date(run.started_at).toLocaleTimeString();
    const error = run.error;
    let position: { offset: number; line: number; column: number } | null = null;
    if (error?.position !== undefined) {
        const within = character_position_to_offset(run.sql, error.position);
        position = { offset: run.offset + within, ...line_column(run.sql, within) };
    }
    return (
        <div className="messages" data-testid="messages">
            {run.status === "error" && error && (
                <section className="error-card" role="alert">
                    <h3>
                        {code_titles[error.code] ?? "The query failed"}
                        {error.sqlstate && <span className="faint mono">SQLSTATE {error.sqlstate}</span>}
                    </h3>
                    <div className="msg">{error.message}</div>
                    {(error.detail || error.hint || position) && (
                        <dl>
                            {error.detail && (
                                <>
                                    <dt>Detail</dt>
                                    <dd>{error.detail}</dd>
                                </>
                            )}
                            {error.hint && (
                                <>
                                    <dt>Hint</dt>
                                    <dd>{error.hint}</dd>
                                </>
                            )}
                            {position && (
                                <>
                                    <dt>Position</dt>
                                    <dd>
                                        Line {position.line}, column {position.column} (character {error.position})
                                    </dd>
                                </>
                            )}
                        </dl>
                    )}
                    {position && (
                        <div className="actions">
                            <button type="button" className="btn btn-sm" onClick={() => on_reveal(position!.offset)}>
                                Show in editor
                            </button>
                        </div>
                    )}
                </section>
            )}
            {run.status === "cancelled" && <div className="log-line">{started} — the query was cancelled{run.finished_at ? ` after ${format_duration(run.finished_at - run.started_at)}` : ""}.</div>}
            {run.status === "success" && run.result && (
                <div className="log-line">
                    {started} — {format_count(run.result.row_count, "row")} returned in {format_duration(run.result.execution_time_ms)}
                    {run.result.truncated ? `, truncated at ${run.max_rows.toLocaleString("en-US")} rows` : ""}.
                </div>
            )}
            {run.status === "success" && !run.result && run.plan !== undefined && (
                <div className="log-line">
                    {started} — {run.mode === "analyze" ? "EXPLAIN ANALYZE" : "EXPLAIN"} finished; see the Plan view.
                </div>
            )}
            {run.status === "running" && <div className="log-line">{started} — running…</div>}
            <div className="log-line">
                <span className="faint">Statement:</span>
                <pre className="mono" style={{ margin: "4px 0 0", whiteSpace: "pre-wrap", color: "var(--text)" }}>
                    {run.sql}
                </pre>
            </div>
        </div>
    );
}
