// Direct query routes: the editor's sources, schema, execution with exact values, cancel and streamed export.
import { parse_exact_json, type JsonValue } from "../lib/exact_json";
import { request, request_json } from "./http";
import { team_path } from "./sources";
import type { ExportFormat, QueryResult, SchemaResponse, Source, TeamId } from "./types";

export async function list_query_sources(team_id: TeamId, signal?: AbortSignal): Promise<Source[]> {
    const body = await request_json<{ sources?: Source[] } | Source[]>(team_path(team_id, "direct_query/sources"), { signal });
    return Array.isArray(body) ? body : (body.sources ?? []);
}

export async function fetch_schema(team_id: TeamId, source_id: string, refresh: boolean, signal?: AbortSignal): Promise<SchemaResponse> {
    // detail=1 asks for views, keys and row estimates; a server without the richer form ignores it.
    const suffix = refresh ? "?detail=1&refresh=1" : "?detail=1";
    const body = await request_json<SchemaResponse>(team_path(team_id, `direct_query/schema/${encodeURIComponent(source_id)}${suffix}`), { signal });
    return {
        tables: body && body.tables ? body.tables : {},
        default_schema: typeof body?.default_schema === "string" ? body.default_schema : undefined,
        relations: Array.isArray(body?.relations) ? body.relations : undefined,
    };
}

export interface ExecuteRequest {
    source_id: string;
    sql: string;
    max_rows: number;
    client_query_id: string;
    timeout_ms?: number;
}

/** The parsed result plus the response text, which is what the tab stores to restore it exactly after a reload. */
export interface ExecuteResponse {
    result: QueryResult;
    raw: string;
}

export async function execute_query(team_id: TeamId, body: ExecuteRequest, signal?: AbortSignal): Promise<ExecuteResponse> {
    const response = await request(team_path(team_id, "direct_query/execute"), {
        method: "POST",
        body: { ...body, format: "arrays" },
        signal,
    });
    const raw = await response.text();
    return { result: parse_query_result(raw), raw };
}

/** Reads an execute answer; values keep their exact digits. Also accepts the older object-row shape. */
export function parse_query_result(raw: string): QueryResult {
    const body = parse_exact_json(raw) as Record<string, JsonValue>;
    const raw_columns = Array.isArray(body.columns) ? body.columns : [];
    const columns: string[] = [];
    const types: string[] = [];
    raw_columns.forEach((column, index) => {
        if (column !== null && typeof column === "object" && !Array.isArray(column)) {
            const described = column as Record<string, JsonValue>;
            columns.push(String(described.name ?? `column_${index + 1}`));
            types.push(String(described.type ?? ""));
        } else {
            columns.push(String(column));
            const declared = Array.isArray(body.types) ? body.types[index] : undefined;
            types.push(declared === undefined || declared === null ? "" : String(declared));
        }
    });
    const source_rows = Array.isArray(body.rows) ? body.rows : Array.isArray(body.results) ? body.results : [];
    const rows = source_rows.map((row) => {
        if (Array.isArray(row)) {
            return row;
        }
        const record = (row ?? {}) as Record<string, JsonValue>;
        return columns.map((name) => (name in record ? record[name] : null));
    });
    return {
        columns,
        types,
        rows,
        row_count: body.row_count === undefined || body.row_count === null ? rows.length : Number(String(body.row_count)),
        truncated: body.truncated === true,
        execution_time_ms: body.execution_time_ms === undefined || body.execution_time_ms === null ? 0 : Number(String(body.execution_time_ms)),
    };
}

/** EXPLAIN (FORMAT JSON) of a statement, with ANALYZE when asked: the plan as the database gives it. */
export async function explain_query(team_id: TeamId, body: ExecuteRequest & { analyze: boolean }, signal?: AbortSignal): Promise<JsonValue> {
    const response = await request(team_path(team_id, "direct_query/explain"), { method: "POST", body, signal });
    const parsed = parse_exact_json(await response.text()) as Record<string, JsonValue>;
    return parsed.plan ?? null;
}

export async function cancel_query(team_id: TeamId, client_query_id: string): Promise<void> {
    await request_json<unknown>(team_path(team_id, "direct_query/cancel"), {
        method: "POST",
        body: { client_query_id },
    });
}

/** Starts a streamed export; the caller reads the body as it arrives. */
export async function start_export(team_id: TeamId, source_id: string, sql: string, format: ExportFormat, signal?: AbortSignal): Promise<Response> {
    return request(team_path(team_id, "direct_query/export"), {
        method: "POST",
        body: { source_id, sql, format },
        signal,
        headers: { Accept: format === "csv" ? "text/csv" : "application/x-ndjson" },
    });
}
