// The output pane of a tab: a header with the run's summary and actions, and one of its views (results grid,
// messages). Each view is its own component so this file stays a small switchboard.
import { useDeferredValue, useEffect, useState } from "react";
import type { TeamId } from "../../api/types";
import { StopIcon } from "../../components/icons";
import { format_count, format_duration } from "../../lib/format";
import type { Dialect } from "../editor/dialect";
import type { QueryRun } from "../editor/query_run";
import { ChartView } from "./ChartView";
import type { ChartSettings } from "./chart_model";
import { ExportButtons } from "./ExportButtons";
import { MessagesView } from "./MessagesView";
import { PlanView } from "./PlanView";
import { ResultGrid } from "./ResultGrid";

type View = "results" | "chart" | "plan" | "messages";

const views: ReadonlyArray<{ view: View; label: string }> = [
    { view: "results", label: "Results" },
    { view: "chart", label: "Chart" },
    { view: "plan", label: "Plan" },
    { view: "messages", label: "Messages" },
];

interface ResultPaneProps {
    run: QueryRun | undefined;
    team_id: TeamId;
    dialect: Dialect;
    file_stem: string;
    on_reveal(offset: number): void;
    on_cancel(): void;
    on_rerun_with_limit(max_rows: number): void;
    on_analyze(): void;
    chart_settings: ChartSettings | null;
    on_chart_settings(settings: ChartSettings): void;
    /** Whether this tab last showed its results as a chart. */
    chart_shown: boolean;
    on_chart_shown(shown: boolean): void;
}

function Elapsed({ since }: { since: number }) {
    const [now, set_now] = useState(Date.now());
    useEffect(() => {
        const timer = window.setInterval(() => set_now(Date.now()), 100);
        return () => window.clearInterval(timer);
    }, []);
    return <span className="mono">{((now - since) / 1000).toFixed(1)} s</span>;
}

export function ResultPane({ run, team_id, dialect, file_stem, on_reveal, on_cancel, on_rerun_with_limit, on_analyze, chart_settings, on_chart_settings, chart_shown, on_chart_shown }: ResultPaneProps) {
    const [view, set_view_state] = useState<View>(chart_shown ? "chart" : "results");
    // Results and Chart are the tab's choice, remembered with it; Plan and Messages follow the run.
    const set_view = (next: View | ((current: View) => View)) =>
        set_view_state((current) => {
            const value = typeof next === "function" ? next(current) : next;
            if ((value === "chart") !== (current === "chart") && (value === "chart" || value === "results")) {
                queueMicrotask(() => on_chart_shown(value === "chart"));
            }
            return value;
        });
    const [filter, set_filter] = useState("");
    const deferred_filter = useDeferredValue(filter);

    // An error is read in Messages, a plan in Plan, anything else where rows show (the grid, or the chart
    // when the user chose it).
    useEffect(() => {
        if (!run) {
            return;
        }
        if (run.status === "error") {
            set_view("messages");
        } else if (run.mode !== "query") {
            set_view("plan");
        } else {
            set_view((current) => (current === "chart" ? "chart" : "results"));
        }
    }, [run?.run_id, run?.status, run?.mode]);

    useEffect(() => {
        set_filter("");
    }, [run?.run_id]);

    // The ARIA tabs pattern: one Tab stop, arrow keys move between the views and show them.
    const on_views_key = (event: React.KeyboardEvent<HTMLDivElement>) => {
        const index = views.findIndex((option) => option.view === view);
        const targets: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1 + views.length, Home: 0, End: views.length - 1 };
        if (!(event.key in targets)) {
            return;
        }
        event.preventDefault();
        const next = views[targets[event.key] % views.length].view;
        set_view(next);
        event.currentTarget.querySelector<HTMLElement>(`[data-view="${next}"]`)?.focus();
    };

    const result = run?.status === "success" ? run.result : undefined;
    const next_limit = run ? Math.min(100_000, run.max_rows * 10) : 0;

    let summary: React.ReactNode = null;
    if (run?.status === "running") {
        summary = (
            <span className="result-summary" aria-live="polite">
                <span className="spinner" /> {run.cancelling ? "Cancelling…" : "Running"} <Elapsed since={run.started_at} />
            </span>
        );
    } else if (result) {
        summary = (
            <span className="result-summary" data-testid="result-summary">
                <strong>{format_count(result.row_count, "row")}</strong>
                <span>{format_duration(result.execution_time_ms)}</span>
                {run?.restored && <span className="faint">· last run {new Date(run.finished_at ?? run.started_at).toLocaleString()}</span>}
            </span>
        );
    } else if (run?.status === "error") {
        summary = <span className="result-summary" style={{ color: "var(--danger)" }}>Failed</span>;
    } else if (run?.status === "cancelled") {
        summary = <span className="result-summary">Cancelled</span>;
    }

    let body: React.ReactNode;
    if (view === "messages") {
        body = <MessagesView run={run} on_reveal={on_reveal} />;
    } else if (view === "plan" && run?.status === "success" && run.plan !== undefined) {
        body = <PlanView plan={run.plan} analyzed_run={run.mode === "analyze"} on_analyze={on_analyze} />;
    } else if (view === "plan" && run?.status !== "running") {
        body = (
            <div className="result-empty">
                <div>
                    <div className="big">No plan yet</div>
                    Press <strong>Explain</strong> in the toolbar to see how the database will run the statement.
                </div>
            </div>
        );
    } else if (view === "chart" && result && result.rows.length > 0) {
        body = <ChartView result={result} dialect={dialect} settings={chart_settings} on_change={on_chart_settings} />;
    } else if (!run) {
        body = (
            <div className="result-empty">
                <div>
                    <div className="big">No results yet</div>
                    Press <kbd>Ctrl</kbd> + <kbd>Enter</kbd> to run the query, or the statement under the cursor.
                </div>
            </div>
        );
    } else if (run.status === "running") {
        body = (
            <div className="result-empty">
                <div className="running-state">
                    <div className="line">
                        <span className="spinner" /> {run.cancelling ? "Cancelling the query…" : "Running the query…"} <Elapsed since={run.started_at} />
                    </div>
                    <button type="button" className="btn" onClick={on_cancel} disabled={run.cancelling}>
                        <StopIcon size={12} /> Cancel
                    </button>
                </div>
            </div>
        );
    } else if (run.status === "error") {
        body = <MessagesView run={run} on_reveal={on_reveal} />;
    } else if (run.status === "success" && run.plan !== undefined && !result) {
        body = <PlanView plan={run.plan} analyzed_run={run.mode === "analyze"} on_analyze={on_analyze} />;
    } else if (run.status === "cancelled" || !result) {
        body = (
            <div className="result-empty">
                <div>
                    <div className="big">{run.restored?.partial ? "The last result was too large to keep" : "Query cancelled"}</div>
                    Run the query again to see its rows.
                </div>
            </div>
        );
    } else if (result.columns.length === 0) {
        body = (
            <div className="result-empty">
                <div>
                    <div className="big">The statement returned no columns</div>
                    Finished in {format_duration(result.execution_time_ms)}.
                </div>
            </div>
        );
    } else {
        body = (
            <div style={{ flex: 1, minWidth: 0, display: "flex", flexDirection: "column" }}>
                {result.truncated && (
                    <div className="truncated-bar" role="status" data-testid="truncated-notice">
                        <span>
                            Truncated at {run.max_rows.toLocaleString("en-US")} rows — the query returned more.
                        </span>
                        {run.max_rows < 100_000 && (
                            <button type="button" className="btn btn-sm" onClick={() => on_rerun_with_limit(next_limit)}>
                                Run again with {next_limit.toLocaleString("en-US")} rows
                            </button>
                        )}
                        <span>or download every row as CSV or JSON.</span>
                    </div>
                )}
                {run.restored?.partial && (
                    <div className="truncated-bar" role="status">
                        Showing the first {result.rows.length.toLocaleString("en-US")} rows kept from the last run; run again for all of them.
                    </div>
                )}
                {result.rows.length === 0 ? (
                    <div className="result-empty">
                        <div>
                            <div className="big">No rows</div>
                            Columns: {result.columns.join(", ")}
                        </div>
                    </div>
                ) : (
                    <ResultGrid result={result} dialect={dialect} filter={deferred_filter} />
                )}
            </div>
        );
    }

    return (
        <section className="result-pane" aria-label="Query output" data-run-id={run?.run_id ?? ""} data-run-status={run?.status ?? "none"}>
            <div className="result-head">
                <div className="segmented" role="tablist" aria-label="Output view" onKeyDown={on_views_key}>
                    {views.map((option) => (
                        <button
                            key={option.view}
                            type="button"
                            role="tab"
                            id={`output-tab-${option.view}`}
                            data-view={option.view}
                            aria-selected={view === option.view}
                            aria-controls="output-panel"
                            tabIndex={view === option.view ? 0 : -1}
                            onClick={() => set_view(option.view)}
                        >
                            {option.label}
                            {option.view === "messages" && run?.status === "error" ? " •" : ""}
                        </button>
                    ))}
                </div>
                {summary}
                <span className="spacer" />
                {result && result.rows.length > 0 && view === "results" && (
                    <input
                        className="input input-sm"
                        type="search"
                        placeholder="Filter rows"
                        aria-label="Filter rows"
                        value={filter}
                        onChange={(event) => set_filter(event.target.value)}
                        style={{ width: 180 }}
                    />
                )}
                {run && run.status !== "running" && run.status !== "error" && run.sql && run.mode === "query" && (
                    <ExportButtons team_id={team_id} source_id={run.source_id} sql={run.sql} file_stem={file_stem} />
                )}
            </div>
            <div className="result-body" role="tabpanel" id="output-panel" aria-labelledby={`output-tab-${view}`}>
                {body}
            </div>
        </section>
    );
}
