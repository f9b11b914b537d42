// The team-admin API: members and their roles, and which members may use a restricted source (docs/api.md).
import { request_json } from "../../api/http";
import { team_path } from "../../api/sources";
import type { TeamId } from "../../api/types";

export type Role = "admin" | "member" | "viewer";
export const roles: Role[] = ["admin", "member", "viewer"];

export interface Member {
    user_id: number;
    email: string;
    role: Role;
    joined_at: string;
}

export interface SourceAccess {
    restricted: boolean;
    user_ids: number[];
}

export async function list_members(team_id: TeamId, signal?: AbortSignal): Promise<Member[]> {
    const body = await request_json<{ results: Member[] }>(team_path(team_id, "members/"), { signal });
    return body.results;
}

/** Adds an existing user, or creates one when a password is given and no user has the e-mail. */
export async function add_member(team_id: TeamId, email: string, role: Role, password?: string): Promise<Member & { created: boolean }> {
    return request_json<Member & { created: boolean }>(team_path(team_id, "members/"), {
        method: "POST",
        body: password ? { email, role, password } : { email, role },
    });
}

export async function change_role(team_id: TeamId, user_id: number, role: Role): Promise<Member> {
    return request_json<Member>(team_path(team_id, `members/${user_id}/`), { method: "PATCH", body: { role } });
}

export async function remove_member(team_id: TeamId, user_id: number): Promise<void> {
    await request_json<void>(team_path(team_id, `members/${user_id}/`), { method: "DELETE" });
}

export async function get_access(team_id: TeamId, source_id: string, signal?: AbortSignal): Promise<SourceAccess> {
    return request_json<SourceAccess>(team_path(team_id, `external_data_sources/${encodeURIComponent(source_id)}/access`), { signal });
}

export async function set_access(team_id: TeamId, source_id: string, access: SourceAccess): Promise<SourceAccess> {
    return request_json<SourceAccess>(team_path(team_id, `external_data_sources/${encodeURIComponent(source_id)}/access`), {
        method: "PUT",
        body: access,
    });
}
