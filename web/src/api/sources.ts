// Team-scoped source management: list, create, edit, delete and the "Test connection" check.
import { request_json } from "./http";
import type { JobInputs, RoleWarning, Source, TeamId } from "./types";

export function team_path(team_id: TeamId, rest: string): string {
    return `/api/environments/${encodeURIComponent(String(team_id))}/${rest}`;
}

export interface SourceDraft {
    source_type: string;
    prefix: string;
    job_inputs: JobInputs;
}

export async function list_sources(team_id: TeamId, signal?: AbortSignal): Promise<Source[]> {
    const body = await request_json<{ results?: Source[] } | Source[]>(team_path(team_id, "external_data_sources/"), { signal });
    return Array.isArray(body) ? body : (body.results ?? []);
}

export async function create_source(team_id: TeamId, draft: SourceDraft): Promise<{ id: string; warnings: RoleWarning[] }> {
    const created = await request_json<{ id: string; warnings?: RoleWarning[] }>(team_path(team_id, "external_data_sources/"), {
        method: "POST",
        body: { ...draft, query_only: true },
    });
    return { id: created.id, warnings: created.warnings ?? [] };
}

/** The changed source; `warnings` when changed connection settings were checked again. */
export async function update_source(team_id: TeamId, id: string, patch: Partial<SourceDraft>): Promise<Source & { warnings: RoleWarning[] }> {
    const updated = await request_json<Source & { warnings?: RoleWarning[] }>(team_path(team_id, `external_data_sources/${encodeURIComponent(id)}/`), {
        method: "PATCH",
        body: patch,
    });
    return { ...updated, warnings: updated.warnings ?? [] };
}

export async function delete_source(team_id: TeamId, id: string): Promise<void> {
    await request_json<void>(team_path(team_id, `external_data_sources/${encodeURIComponent(id)}/`), { method: "DELETE" });
}

/** Connects once with the given settings without storing anything; throws the server's error on failure and
 * answers what the role can do beyond reading. */
export async function check_source(team_id: TeamId, source_type: string, job_inputs: JobInputs, signal?: AbortSignal): Promise<RoleWarning[]> {
    const checked = await request_json<{ ok: boolean; warnings?: RoleWarning[] }>(team_path(team_id, "external_data_sources/check"), {
        method: "POST",
        body: { source_type, job_inputs },
        signal,
    });
    return checked.warnings ?? [];
}
