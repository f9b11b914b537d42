// The workbench's URL contract: /sql?open_query=…&direct_query_source=<uuid> opens a tab with that query and source.

export interface OpenQueryRequest {
    sql: string;
    source_id: string | null;
}

/** Reads a shared link's parameters; null when the URL asks for nothing. */
export function parse_open_query(search: string): OpenQueryRequest | null {
    const params = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
    const sql = params.get("open_query");
    const source = params.get("direct_query_source");
    if (sql === null && source === null) {
        return null;
    }
    return { sql: sql ?? "", source_id: source && source.trim() !== "" ? source.trim() : null };
}

/** The search string left once a shared link has been consumed, keeping any unrelated parameters. */
export function strip_open_query(search: string): string {
    const params = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
    params.delete("open_query");
    params.delete("direct_query_source");
    params.delete("direct_query_prefix");
    const rest = params.toString();
    return rest ? "?" + rest : "";
}

/**
 * A link that reopens this query on this source. Spaces are written as %20 and "+" as %2B, so the link
 * survives both URLSearchParams (which reads "+" as a space) and plain decodeURIComponent.
 */
export function build_share_url(origin: string, sql: string, source_id: string | null): string {
    const parts = [`open_query=${encodeURIComponent(sql)}`];
    if (source_id) {
        parts.push(`direct_query_source=${encodeURIComponent(source_id)}`);
    }
    return `${origin.replace(/\/$/, "")}/sql?${parts.join("&")}`;
}

export interface OpenPlan {
    /** Put the query into the current tab (it is empty and has never run) rather than a new one. */
    reuse_active_tab: boolean;
    sql: string;
    source_id: string | null;
}

/** Where a shared link's query goes: an untouched tab is reused; the link's source, else the tab's, is used. */
export function plan_open_query(request: OpenQueryRequest, active: { sql: string; source_id: string | null; has_run: boolean }): OpenPlan {
    return {
        reuse_active_tab: active.sql.trim() === "" && !active.has_run,
        sql: request.sql,
        source_id: request.source_id ?? active.source_id,
    };
}
