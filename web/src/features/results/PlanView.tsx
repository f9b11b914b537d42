// The result pane's plan view: the EXPLAIN tree, one line per node, with a bar for its share of time or cost.
import type { JsonValue } from "../../lib/exact_json";
import { format_duration } from "../../lib/format";
import { read_plan } from "./plan_model";

interface PlanViewProps {
    plan: JsonValue;
    analyzed_run: boolean;
    on_analyze(): void;
}

function rows_text(count: number | null): string {
    return count === null ? "?" : count.toLocaleString("en-US");
}

export function PlanView({ plan, analyzed_run, on_analyze }: PlanViewProps) {
    const summary = read_plan(plan);
    if (!summary) {
        return (
            <div className="messages">
                <pre className="mono">{JSON.stringify(plan, null, 2)}</pre>
            </div>
        );
    }
    return (
        <div className="plan" data-testid="plan-view">
            <div className="plan-head">
                {summary.analyzed ? (
                    <span>
                        Executed in <strong>{format_duration(summary.execution_ms ?? 0)}</strong>
                        {summary.planning_ms !== null && <> · planned in {format_duration(summary.planning_ms)}</>} · bars show each step's own time
                    </span>
                ) : (
                    <span>Estimated plan · bars show each step's own share of the estimated cost</span>
                )}
                <span className="spacer" />
                {!analyzed_run && (
                    <button type="button" className="btn btn-sm" onClick={on_analyze} title="Runs the statement to measure real times and row counts">
                        Run EXPLAIN ANALYZE
                    </button>
                )}
            </div>
            <ol className="plan-rows">
                {summary.rows.map((row, index) => (
                    <li key={index} className="plan-row" style={{ paddingLeft: 12 + row.depth * 20 }}>
                        <div className="plan-line">
                            <span className="plan-title">
                                {row.depth > 0 && <span className="faint">→ </span>}
                                {row.title}
                            </span>
                            <span className="plan-bar" aria-label={`${Math.round(row.share * 100)} percent`}>
                                <span style={{ width: `${Math.max(1, row.share * 100)}%` }} />
                            </span>
                            <span className="plan-numbers">
                                {summary.analyzed ? (
                                    <>
                                        {format_duration(row.self_ms ?? 0)} · {rows_text(row.actual_rows)} rows
                                        {row.loops !== null && row.loops > 1 ? ` × ${row.loops} loops` : ""}
                                        <span className="faint"> (est. {rows_text(row.estimated_rows)})</span>
                                    </>
                                ) : (
                                    <>
                                        cost {row.total_cost?.toFixed(2) ?? "?"} · est. {rows_text(row.estimated_rows)} rows
                                    </>
                                )}
                            </span>
                        </div>
                        {row.details.map((detail) => (
                            <div key={detail} className="plan-detail mono">
                                {detail}
                            </div>
                        ))}
                    </li>
                ))}
            </ol>
        </div>
    );
}
