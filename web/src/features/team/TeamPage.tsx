// Team administration (admins only): members and their roles, and per-database access for restricted databases.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { error_message } from "../../api/http";
import type { Source, TeamId } from "../../api/types";
import { use_toast } from "../../components/toast";
import { source_name, use_sources } from "../sources/sources_context";
import { add_member, change_role, get_access, list_members, remove_member, roles, set_access, type Member, type Role, type SourceAccess } from "./team_api";

function AddMemberForm({ team_id, on_added }: { team_id: TeamId; on_added(): void }) {
    const toast = use_toast();
    const [email, set_email] = useState("");
    const [role, set_role] = useState<Role>("member");
    const [password, set_password] = useState("");
    const [busy, set_busy] = useState(false);
    const submit = async (event: FormEvent) => {
        event.preventDefault();
        set_busy(true);
        try {
            const added = await add_member(team_id, email.trim(), role, password || undefined);
            toast.show(added.created ? `${added.email} created and added` : `${added.email} added`);
            set_email("");
            set_password("");
            on_added();
        } catch (caught) {
            toast.show(`Could not add: ${error_message(caught)}`, "error");
        } finally {
            set_busy(false);
        }
    };
    return (
        <form className="team-add" onSubmit={(event) => void submit(event)} style={{ display: "flex", gap: 8, flexWrap: "wrap", marginBottom: 12 }}>
            <input className="input" type="email" required placeholder="e-mail" aria-label="E-mail" value={email} onChange={(event) => set_email(event.target.value)} />
            <select className="select" aria-label="Role" value={role} onChange={(event) => set_role(event.target.value as Role)}>
                {roles.map((candidate) => (
                    <option key={candidate} value={candidate}>
                        {candidate}
                    </option>
                ))}
            </select>
            <input
                className="input"
                type="password"
                minLength={12}
                autoComplete="new-password"
                placeholder="password, for a new user (12+ characters)"
                aria-label="Password for a new user"
                value={password}
                onChange={(event) => set_password(event.target.value)}
            />
            <button type="submit" className="btn btn-primary" disabled={busy}>
                Add member
            </button>
        </form>
    );
}

function AccessRow({ team_id, source, members }: { team_id: TeamId; source: Source; members: Member[] }) {
    const toast = use_toast();
    const [access, set_local] = useState<SourceAccess | null>(null);
    useEffect(() => {
        const controller = new AbortController();
        get_access(team_id, source.id, controller.signal)
            .then(set_local)
            .catch(() => undefined);
        return () => controller.abort();
    }, [team_id, source.id]);
    const save = async (next: SourceAccess) => {
        try {
            set_local(await set_access(team_id, source.id, next));
        } catch (caught) {
            toast.show(`Could not change access: ${error_message(caught)}`, "error");
        }
    };
    if (!access) {
        return null;
    }
    const others = members.filter((member) => member.role !== "admin");
    return (
        <tr>
            <td>
                <strong>{source_name(source)}</strong>
            </td>
            <td>
                <label>
                    <input type="checkbox" checked={access.restricted} onChange={(event) => void save({ ...access, restricted: event.target.checked })} /> Only admins and chosen members
                </label>
            </td>
            <td>
                {access.restricted
                    ? others.map((member) => (
                          <label key={member.user_id} style={{ marginRight: 12 }}>
                              <input
                                  type="checkbox"
                                  checked={access.user_ids.includes(member.user_id)}
                                  onChange={(event) =>
                                      void save({
                                          ...access,
                                          user_ids: event.target.checked ? [...access.user_ids, member.user_id] : access.user_ids.filter((id) => id !== member.user_id),
                                      })
                                  }
                              />{" "}
                              {member.email}
                          </label>
                      ))
                    : <span className="muted">Everyone in the team</span>}
            </td>
        </tr>
    );
}

export function TeamPage({ team_id }: { team_id: TeamId }) {
    const toast = use_toast();
    const shared = use_sources();
    const [members, set_members] = useState<Member[] | null>(null);
    const [error, set_error] = useState<string | null>(null);
    const load = useCallback(() => {
        list_members(team_id)
            .then((list) => {
                set_members(list);
                set_error(null);
            })
            .catch((caught: unknown) => set_error(error_message(caught)));
    }, [team_id]);
    useEffect(load, [load]);

    const act = async (work: Promise<unknown>, done: string) => {
        try {
            await work;
            toast.show(done);
        } catch (caught) {
            toast.show(error_message(caught), "error");
        }
        load();
    };

    return (
        <main className="page">
            <div className="page-head">
                <div>
                    <h1>Team</h1>
                    <p>Admins manage databases and members; members query; viewers see the team and its databases.</p>
                </div>
            </div>
            {error && (
                <div className="notice notice-error" role="alert">
                    {error}
                </div>
            )}
            <AddMemberForm team_id={team_id} on_added={load} />
            {members && (
                <table className="table" data-testid="members-table">
                    <thead>
                        <tr>
                            <th>Member</th>
                            <th>Role</th>
                            <th>Joined</th>
                            <th>
                                <span className="sr-only">Actions</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {members.map((member) => (
                            <tr key={member.user_id}>
                                <td>{member.email}</td>
                                <td>
                                    <select
                                        className="select select-sm"
                                        aria-label={`Role of ${member.email}`}
                                        value={member.role}
                                        onChange={(event) => void act(change_role(team_id, member.user_id, event.target.value as Role), "Role changed")}
                                    >
                                        {roles.map((candidate) => (
                                            <option key={candidate} value={candidate}>
                                                {candidate}
                                            </option>
                                        ))}
                                    </select>
                                </td>
                                <td className="muted">{new Date(member.joined_at).toLocaleDateString()}</td>
                                <td className="actions">
                                    <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => void act(remove_member(team_id, member.user_id), `${member.email} removed`)}>
                                        Remove
                                    </button>
                                </td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            )}
            {members && shared.sources.length > 0 && (
                <>
                    <h2 style={{ marginTop: 24 }}>Database access</h2>
                    <table className="table" data-testid="access-table">
                        <tbody>
                            {shared.sources.map((source) => (
                                <AccessRow key={source.id} team_id={team_id} source={source} members={members} />
                            ))}
                        </tbody>
                    </table>
                </>
            )}
        </main>
    );
}
