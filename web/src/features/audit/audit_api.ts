// The audit log route (GET audit_log/, team admins only): its record shape, and the filters as a query string.
import { request_json } from "../../api/http";
import { team_path } from "../../api/sources";
import type { TeamId } from "../../api/types";

export type AuditOutcome = "ok" | "error" | "timeout" | "cancelled" | "refused";

export interface AuditRecord {
    id: number;
    occurred_at: string;
    user_id: number;
    user_email?: string | null;
    source_id: string | null;
    action: string;
    sql: string | null;
    fingerprint: string | null;
    started_at: string;
    duration_ms: number;
    rows_returned: number;
    outcome: AuditOutcome;
    error_code: string | null;
    client_address: string;
    details: Record<string, unknown>;
}

export interface AuditPage {
    results: AuditRecord[];
    next_before_id: number | null;
}

/** What the filter bar holds; empty strings mean "any". Times are datetime-local values in the browser's zone. */
export interface AuditFilters {
    user_id: string;
    source_id: string;
    action: string;
    outcome: string;
    from: string;
    to: string;
    sql_contains: string;
}

export const empty_filters: AuditFilters = { user_id: "", source_id: "", action: "", outcome: "", from: "", to: "", sql_contains: "" };

export const audit_actions = [
    "query",
    "explain",
    "export",
    "export.finished",
    "source.create",
    "source.update",
    "source.delete",
    "login",
    "login_failed",
    "api_key.create",
    "api_key.revoke",
] as const;

export const audit_outcomes: AuditOutcome[] = ["ok", "error", "timeout", "cancelled", "refused"];

/** A datetime-local value ("2026-11-22T04:05") read in the browser's zone, as the ISO-8601 UTC time the API takes. */
export function local_time_to_iso(value: string): string | null {
    const trimmed = value.trim();
    if (!trimmed) {
        return null;
    }
    const when = new Date(trimmed);
    return Number.isNaN(when.getTime()) ? null : when.toISOString();
}

/** The query string for one page: only the filters that are set, trimmed; before_id for the pages after the first. */
export function audit_query_string(filters: AuditFilters, before_id: number | null = null, limit = 100): string {
    const params = new URLSearchParams();
    const text = (name: keyof AuditFilters, value: string) => {
        const trimmed = value.trim();
        if (trimmed) {
            params.set(name, trimmed);
        }
    };
    text("user_id", filters.user_id);
    text("source_id", filters.source_id);
    text("action", filters.action);
    text("outcome", filters.outcome);
    const from = local_time_to_iso(filters.from);
    if (from) {
        params.set("from", from);
    }
    const to = local_time_to_iso(filters.to);
    if (to) {
        params.set("to", to);
    }
    // The SQL search keeps inner spaces: "select  1" and "select 1" are different searches.
    if (filters.sql_contains.trim()) {
        params.set("sql_contains", filters.sql_contains);
    }
    if (before_id !== null) {
        params.set("before_id", String(before_id));
    }
    params.set("limit", String(limit));
    return params.toString();
}

export async function fetch_audit_page(team_id: TeamId, filters: AuditFilters, before_id: number | null, signal?: AbortSignal): Promise<AuditPage> {
    const body = await request_json<AuditPage>(team_path(team_id, "audit_log/?" + audit_query_string(filters, before_id)), { signal });
    return { results: body.results ?? [], next_before_id: body.next_before_id ?? null };
}
