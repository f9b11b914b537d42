// The team's sources: status, connection summary, add, edit and delete. A new source becomes the editor's database.
import { useEffect, useState } from "react";
import { delete_source } from "../../api/sources";
import { error_message } from "../../api/http";
import type { Source, TeamId } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { EditIcon, PlusIcon, TrashIcon } from "../../components/icons";
import { use_toast } from "../../components/toast";
import { navigate, use_location } from "../../lib/router";
import { dialect_for } from "../editor/dialect";
import { use_workbench } from "../editor/workbench_store";
import { source_name, use_sources } from "./sources_context";
import { SourceDialog } from "./SourceDialog";

function status_class(status: string | undefined): string {
    const value = (status ?? "").toLowerCase();
    if (["completed", "ok", "running", "active", "connected", "ready"].includes(value)) {
        return "status ok";
    }
    if (["error", "failed", "unreachable"].includes(value)) {
        return "status bad";
    }
    return "status";
}

export function SourcesPage({ team_id }: { team_id: TeamId }) {
    const toast = use_toast();
    const location = use_location();
    const shared = use_sources();
    const workbench = use_workbench();
    const sources = shared.loading && shared.sources.length === 0 ? null : shared.sources;
    const error = shared.error;
    const [dialog, set_dialog] = useState<{ open: boolean; editing: Source | null; key: number }>({ open: false, editing: null, key: 0 });
    const [deleting, set_deleting] = useState<Source | null>(null);
    const [delete_busy, set_delete_busy] = useState(false);
    const load = () => shared.reload().catch((caught: unknown) => toast.show(error_message(caught), "error"));

    // The list may have changed elsewhere (another admin): refresh it whenever the page opens.
    useEffect(() => {
        void shared.reload().catch(() => undefined);
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, []);

    // /sources?new=1 (from the editor's "Add a database" button) opens the form directly.
    useEffect(() => {
        if (new URLSearchParams(location.search).get("new") === "1") {
            set_dialog((current) => ({ open: true, editing: null, key: current.key + 1 }));
            navigate("/sources", true);
        }
    }, [location.search]);

    const open_add = () => set_dialog((current) => ({ open: true, editing: null, key: current.key + 1 }));
    const open_edit = (source: Source) => set_dialog((current) => ({ open: true, editing: source, key: current.key + 1 }));
    const close = () => set_dialog((current) => ({ ...current, open: false }));

    const saved = async (id: string, created: boolean) => {
        close();
        await load();
        if (created) {
            workbench.update_tab(workbench.active.id, { source_id: id });
            toast.show("Database added and selected in the editor");
            navigate("/sql");
        } else {
            toast.show("Changes saved");
        }
    };

    const confirm_delete = async () => {
        if (!deleting) {
            return;
        }
        set_delete_busy(true);
        try {
            await delete_source(team_id, deleting.id);
            toast.show(`${source_name(deleting)} deleted`);
            set_deleting(null);
            await load();
        } catch (caught) {
            toast.show(`Could not delete: ${error_message(caught)}`, "error");
        } finally {
            set_delete_busy(false);
        }
    };

    return (
        <main className="page">
            <div className="page-head">
                <div>
                    <h1>Databases</h1>
                    <p>The databases your team can query. Queries run read-only with the credentials stored here.</p>
                </div>
                <button type="button" className="btn btn-primary" onClick={open_add}>
                    <PlusIcon size={14} /> Add database
                </button>
            </div>
            {error && (
                <div className="notice notice-error" role="alert" style={{ maxWidth: 1100, marginBottom: 12 }}>
                    Could not load the databases: {error}
                </div>
            )}
            {sources === null && !error && (
                <div className="muted" style={{ display: "flex", gap: 8, alignItems: "center" }}>
                    <span className="spinner" /> Loading…
                </div>
            )}
            {sources !== null && sources.length === 0 && !error && (
                <div className="empty-state">
                    <h2>No database yet</h2>
                    <p>Add a Postgres database to start querying it. You can paste a connection string.</p>
                    <button type="button" className="btn btn-primary" onClick={open_add}>
                        <PlusIcon size={14} /> Add database
                    </button>
                </div>
            )}
            {sources !== null && sources.length > 0 && (
                <table className="table" data-testid="sources-table">
                    <thead>
                        <tr>
                            <th>Name</th>
                            <th>Type</th>
                            <th>Connection</th>
                            <th>Status</th>
                            <th>Added</th>
                            <th>
                                <span className="sr-only">Actions</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {sources.map((source) => {
                            const inputs = source.job_inputs ?? {};
                            return (
                                <tr key={source.id}>
                                    <td>
                                        <strong>{source_name(source)}</strong>
                                        <div className="faint mono" style={{ fontSize: 11 }}>
                                            {source.id}
                                        </div>
                                    </td>
                                    <td>{dialect_for(source.source_type).label}</td>
                                    <td className="mono">
                                        {inputs.user ? `${inputs.user}@` : ""}
                                        {inputs.host}
                                        {inputs.port ? `:${inputs.port}` : ""}/{inputs.database}
                                        {inputs.schema && inputs.schema !== "public" ? <span className="faint"> · {inputs.schema}</span> : null}
                                    </td>
                                    <td>
                                        <span className={status_class(source.status)}>{source.status || "unknown"}</span>
                                    </td>
                                    <td className="muted">{source.created_at ? new Date(source.created_at).toLocaleDateString() : ""}</td>
                                    <td className="actions">
                                        <button
                                            type="button"
                                            className="btn btn-sm btn-ghost"
                                            aria-label={`Query ${source_name(source)}`}
                                            onClick={() => {
                                                workbench.new_tab({ source_id: source.id });
                                                navigate("/sql");
                                            }}
                                        >
                                            Query
                                        </button>
                                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => open_edit(source)} aria-label={`Edit ${source_name(source)}`}>
                                            <EditIcon size={13} /> Edit
                                        </button>
                                        <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => set_deleting(source)} aria-label={`Delete ${source_name(source)}`}>
                                            <TrashIcon size={13} /> Delete
                                        </button>
                                    </td>
                                </tr>
                            );
                        })}
                    </tbody>
                </table>
            )}
            {dialog.open && <SourceDialog key={dialog.key} team_id={team_id} editing={dialog.editing} open={dialog.open} on_close={close} on_saved={saved} />}
            <Dialog
                open={deleting !== null}
                title="Delete this database?"
                on_close={() => set_deleting(null)}
                width={440}
                footer={
                    <>
                        <button type="button" className="btn" onClick={() => set_deleting(null)} data-autofocus>
                            Keep it
                        </button>
                        <button type="button" className="btn btn-danger solid" onClick={confirm_delete} disabled={delete_busy}>
                            {delete_busy && <span className="spinner" />} Delete
                        </button>
                    </>
                }
            >
                <p style={{ margin: 0 }}>
                    <strong>{deleting ? source_name(deleting) : ""}</strong> and its stored credentials will be removed from MetaHog. The database itself is not
                    touched. Tabs using it will need another database.
                </p>
            </Dialog>
        </main>
    );
}
