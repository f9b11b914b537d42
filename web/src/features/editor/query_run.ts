// A query run's whole state in one object, and how a finished run is saved so it survives a reload.
import { parse_query_result } from "../../api/direct_query";
import { ApiError, type ErrorBody } from "../../api/http";
import type { QueryResult } from "../../api/types";
import { parse_exact_json, stringify_exact_json, type JsonValue } from "../../lib/exact_json";

export interface QueryError {
    message: string;
    code: string;
    status?: number;
    field?: string;
    sqlstate?: string;
    detail?: string;
    hint?: string;
    /** 1-based character position in `QueryRun.sql`, as the database reports it. */
    position?: number;
}

export type RunStatus = "running" | "success" | "error" | "cancelled";

/** A plain run returns rows; "explain" and "analyze" return the database's plan instead. */
export type RunMode = "query" | "explain" | "analyze";

export interface QueryRun {
    run_id: number;
    status: RunStatus;
    mode: RunMode;
    sql: string;
    source_id: string;
    /** Where `sql` starts in the editor text, so an error position lands on the right character. */
    offset: number;
    max_rows: number;
    client_query_id: string;
    started_at: number;
    finished_at?: number;
    cancelling?: boolean;
    result?: QueryResult;
    plan?: JsonValue;
    error?: QueryError;
    /** Set when the run was restored from storage; `partial` when only its first rows were kept. */
    restored?: { partial: boolean };
}

export function query_error_from(caught: unknown): QueryError {
    if (caught instanceof ApiError) {
        return {
            message: caught.message,
            code: caught.code,
            status: caught.status,
            field: caught.field,
            sqlstate: caught.sqlstate,
            detail: caught.detail,
            hint: caught.hint,
            position: caught.position,
        };
    }
    return { message: caught instanceof Error ? caught.message : String(caught), code: "network" };
}

export interface SavedRun {
    status: Exclude<RunStatus, "running">;
    mode?: RunMode;
    plan?: string;
    sql: string;
    source_id: string;
    offset: number;
    max_rows: number;
    started_at: number;
    finished_at: number;
    raw?: string;
    partial?: boolean;
    error?: QueryError;
}

// localStorage holds about 5 MB per origin; one tab's result may use a slice of it.
const max_saved_chars = 1_500_000;
const rows_kept_when_large = 2_000;

/** What to store for a finished run; the server's own text when small enough, so values restore exactly. */
export function save_run(run: QueryRun, raw: string | null): SavedRun | null {
    if (run.status === "running" || run.finished_at === undefined) {
        return null;
    }
    const saved: SavedRun = {
        status: run.status,
        mode: run.mode,
        plan: run.plan !== undefined ? stringify_exact_json(run.plan) : undefined,
        sql: run.sql,
        source_id: run.source_id,
        offset: run.offset,
        max_rows: run.max_rows,
        started_at: run.started_at,
        finished_at: run.finished_at,
        error: run.error,
    };
    if (run.status === "success" && run.result) {
        if (raw !== null && raw.length <= max_saved_chars) {
            saved.raw = raw;
        } else {
            const kept = run.result.rows.slice(0, rows_kept_when_large);
            saved.raw = stringify_exact_json({
                columns: run.result.columns,
                types: run.result.types,
                rows: kept as JsonValue[],
                row_count: run.result.row_count,
                truncated: run.result.truncated,
                execution_time_ms: run.result.execution_time_ms,
            });
            saved.partial = kept.length < run.result.rows.length;
            if (saved.raw.length > max_saved_chars) {
                saved.raw = undefined;
                saved.partial = true;
            }
        }
    }
    return saved;
}

export function restore_run(saved: SavedRun, run_id: number): QueryRun {
    let result: QueryResult | undefined;
    if (saved.raw) {
        try {
            result = parse_query_result(saved.raw);
        } catch {
            result = undefined;
        }
    }
    let plan: JsonValue | undefined;
    if (saved.plan) {
        try {
            plan = parse_exact_json(saved.plan);
        } catch {
            plan = undefined;
        }
    }
    const complete = result !== undefined || plan !== undefined;
    return {
        run_id,
        mode: saved.mode ?? "query",
        plan,
        status: saved.status === "success" && !complete ? "cancelled" : saved.status,
        sql: saved.sql,
        source_id: saved.source_id,
        offset: saved.offset,
        max_rows: saved.max_rows,
        client_query_id: "",
        started_at: saved.started_at,
        finished_at: saved.finished_at,
        result,
        error: saved.error,
        restored: { partial: saved.partial === true || (saved.status === "success" && !complete) },
    };
}

export function error_body_of(error: QueryError): ErrorBody {
    return { ...error };
}
