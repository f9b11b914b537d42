// Add or edit a Postgres source: a connection-string box that fills the fields, "Test connection" with the
// database's own reason on failure, and save. Editing never shows the stored password; blank keeps it.
import { useMemo, useRef, useState, type FormEvent } from "react";
import { check_source, create_source, update_source } from "../../api/sources";
import { ApiError, error_message } from "../../api/http";
import type { JobInputs, RoleWarning, Source, TeamId } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { parse_connection_string } from "../../lib/connection_string";
import { postgres_dialect } from "../editor/dialect";
import { RoleRecipe, RoleWarnings } from "./RoleWarnings";

interface SourceDialogProps {
    team_id: TeamId;
    editing: Source | null;
    open: boolean;
    on_close(): void;
    on_saved(id: string, created: boolean): void;
}

interface FormState {
    prefix: string;
    host: string;
    port: string;
    database: string;
    user: string;
    password: string;
    schema: string;
    sslmode: string;
}

const sslmodes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

function initial_form(source: Source | null): FormState {
    const inputs = source?.job_inputs ?? {};
    return {
        prefix: source?.prefix ?? "",
        host: inputs.host ?? "",
        port: inputs.port ? String(inputs.port) : String(postgres_dialect.default_port),
        database: inputs.database ?? "",
        user: inputs.user ?? "",
        password: "",
        schema: inputs.schema ?? "public",
        sslmode: inputs.sslmode ?? "prefer",
    };
}

type Check =
    | { state: "idle" }
    | { state: "checking" }
    | { state: "ok"; warnings: RoleWarning[] }
    | { state: "failed"; message: string; field?: string; code?: string };

// Saved, with warnings to read before the dialog closes.
interface SavedWithWarnings {
    id: string;
    created: boolean;
    warnings: RoleWarning[];
}

export function SourceDialog({ team_id, editing, open, on_close, on_saved }: SourceDialogProps) {
    const [form, set_form] = useState<FormState>(() => initial_form(editing));
    const [connection_string, set_connection_string] = useState("");
    const [paste_message, set_paste_message] = useState<{ ok: boolean; text: string } | null>(null);
    const [check, set_check] = useState<Check>({ state: "idle" });
    const [saving, set_saving] = useState(false);
    const [save_error, set_save_error] = useState<{ message: string; field?: string; code?: string } | null>(null);
    const [saved, set_saved] = useState<SavedWithWarnings | null>(null);
    const check_controller = useRef<AbortController | null>(null);
    const original = useMemo(() => initial_form(editing), [editing]);

    const set = (field: keyof FormState, value: string) => {
        set_form((current) => ({ ...current, [field]: value }));
        set_check({ state: "idle" });
        set_save_error(null);
    };

    const apply_connection_string = (text: string) => {
        const parsed = parse_connection_string(text);
        if (!parsed.ok) {
            set_paste_message({ ok: false, text: parsed.message });
            return;
        }
        const fields = parsed.fields;
        set_form((current) => ({
            ...current,
            host: fields.host ?? current.host,
            port: fields.port !== undefined ? String(fields.port) : current.port,
            database: fields.database ?? current.database,
            user: fields.user ?? current.user,
            password: fields.password ?? current.password,
            sslmode: fields.sslmode ?? current.sslmode,
            schema: fields.schema ?? current.schema,
            prefix: current.prefix || (editing ? current.prefix : (fields.database ?? "")),
        }));
        set_paste_message({ ok: true, text: "Fields filled from the connection string. Check them, then test the connection." });
        set_check({ state: "idle" });
        set_connection_string("");
    };

    const job_inputs = (): JobInputs => {
        const inputs: JobInputs = {
            host: form.host.trim(),
            port: Number(form.port),
            database: form.database.trim(),
            user: form.user.trim(),
            schema: form.schema.trim() || "public",
            sslmode: form.sslmode,
        };
        if (form.password !== "") {
            inputs.password = form.password;
        }
        return inputs;
    };

    const missing = (): string | null => {
        if (!form.host.trim()) {
            return "Enter the host name or address.";
        }
        if (!/^\d+$/.test(form.port) || Number(form.port) < 1 || Number(form.port) > 65535) {
            return "The port must be a number from 1 to 65535.";
        }
        if (!form.database.trim()) {
            return "Enter the database name.";
        }
        if (!form.user.trim()) {
            return "Enter the user name.";
        }
        return null;
    };

    const test_connection = async () => {
        const problem = missing();
        if (problem) {
            set_check({ state: "failed", message: problem });
            return;
        }
        check_controller.current?.abort();
        const controller = new AbortController();
        check_controller.current = controller;
        set_check({ state: "checking" });
        try {
            const warnings = await check_source(team_id, "Postgres", job_inputs(), controller.signal);
            set_check({ state: "ok", warnings });
        } catch (caught) {
            if (!controller.signal.aborted) {
                const api_error = caught instanceof ApiError ? caught : undefined;
                set_check({ state: "failed", message: error_message(caught), field: api_error?.field, code: api_error?.code });
            }
        }
    };

    const submit = async (event?: FormEvent) => {
        event?.preventDefault();
        const problem = missing();
        if (problem) {
            set_save_error({ message: problem });
            return;
        }
        if (!form.prefix.trim()) {
            set_save_error({ message: "Give the source a name (used as its table prefix).", field: "prefix" });
            return;
        }
        set_saving(true);
        set_save_error(null);
        try {
            if (editing) {
                const inputs = job_inputs();
                const changed: JobInputs = {};
                (Object.keys(inputs) as Array<keyof JobInputs>).forEach((key) => {
                    const before = key === "port" ? Number(original.port) : (original as unknown as Record<string, string>)[key];
                    if (inputs[key] !== before) {
                        (changed as Record<string, unknown>)[key] = inputs[key];
                    }
                });
                const patch: { prefix?: string; job_inputs?: JobInputs } = {};
                if (form.prefix.trim() !== (editing.prefix ?? "")) {
                    patch.prefix = form.prefix.trim();
                }
                if (Object.keys(changed).length > 0) {
                    patch.job_inputs = changed;
                }
                const updated = Object.keys(patch).length > 0 ? await update_source(team_id, editing.id, patch) : null;
                finish_save(editing.id, false, updated?.warnings ?? []);
            } else {
                const created = await create_source(team_id, { source_type: "Postgres", prefix: form.prefix.trim(), job_inputs: job_inputs() });
                finish_save(created.id, true, created.warnings);
            }
        } catch (caught) {
            const api_error = caught instanceof ApiError ? caught : undefined;
            set_save_error({ message: error_message(caught), field: api_error?.field, code: api_error?.code });
            set_saving(false);
        }
    };

    // Warnings are worth a read before the dialog goes away: it stays open, saved, until "Done".
    const finish_save = (id: string, created: boolean, warnings: RoleWarning[]) => {
        if (warnings.length === 0) {
            on_saved(id, created);
            return;
        }
        set_saving(false);
        set_saved({ id, created, warnings });
    };

    const recipe_target = { database: form.database, schema: form.schema };
    const refused_role = (save_error?.code ?? (check.state === "failed" ? check.code : undefined)) === "unsafe_database_role";

    // The check route never sees the stored password, so testing an edit needs it typed again.
    const needs_password_to_test = editing !== null && editing.has_password === true && form.password === "";
    const field_error = save_error?.field ?? (check.state === "failed" ? check.field : undefined);
    const input = (field: keyof FormState, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}, hint?: string, wide = false) => (
        <label className={`field${wide ? " wide" : ""}`}>
            <span>{label}</span>
            <input
                className="input"
                name={field}
                value={form[field]}
                onChange={(event) => set(field, event.target.value)}
                aria-invalid={field_error === field || (field === "database" && field_error === "dbname") || undefined}
                {...props}
            />
            {hint && <small>{hint}</small>}
        </label>
    );

    return (
        <Dialog
            open={open}
            title={editing ? `Edit ${editing.prefix || "source"}` : "Add a Postgres database"}
            on_close={saved ? () => on_saved(saved.id, saved.created) : on_close}
            footer={
                saved ? (
                    <>
                        <span style={{ marginRight: "auto", color: "var(--success)", fontWeight: 600 }}>✓ Saved</span>
                        <button type="button" className="btn btn-primary" onClick={() => on_saved(saved.id, saved.created)} autoFocus>
                            Done
                        </button>
                    </>
                ) : (
                <>
                    <span style={{ marginRight: "auto", display: "flex", alignItems: "center", gap: 8 }} aria-live="polite">
                        {check.state === "checking" && (
                            <>
                                <span className="spinner" /> Connecting…
                            </>
                        )}
                        {check.state === "ok" && <span style={{ color: "var(--success)", fontWeight: 600 }}>✓ Connection works</span>}
                    </span>
                    <button
                        type="button"
                        className="btn"
                        onClick={test_connection}
                        disabled={check.state === "checking" || saving || needs_password_to_test}
                        title={needs_password_to_test ? "Enter the password to test these settings; saving checks them with the stored password" : undefined}
                    >
                        Test connection
                    </button>
                    <button type="submit" form="source-form" className="btn btn-primary" disabled={saving}>
                        {saving && <span className="spinner" />}
                        {saving ? "Connecting and saving…" : editing ? "Save changes" : "Add database"}
                    </button>
                </>
                )
            }
        >
            <form id="source-form" onSubmit={submit} style={{ display: "contents" }}>
                <div className="paste-box">
                    <label className="field" htmlFor="connection-string">
                        <span>Paste a connection string</span>
                    </label>
                    <div className="paste-row">
                        <input
                            id="connection-string"
                            className="input mono"
                            placeholder="postgresql://user:password@host:5432/database?sslmode=require"
                            value={connection_string}
                            autoComplete="off"
                            spellCheck={false}
                            onChange={(event) => {
                                set_connection_string(event.target.value);
                                set_paste_message(null);
                            }}
                            onKeyDown={(event) => {
                                if (event.key === "Enter") {
                                    event.preventDefault();
                                    apply_connection_string(connection_string);
                                }
                            }}
                            onPaste={(event) => {
                                const text = event.clipboardData.getData("text");
                                // A recognisable connection string fills the fields at once; anything else is pasted as text.
                                if (parse_connection_string(text).ok) {
                                    event.preventDefault();
                                    apply_connection_string(text);
                                }
                            }}
                        />
                        <button type="button" className="btn" onClick={() => apply_connection_string(connection_string)} disabled={connection_string.trim() === ""}>
                            Fill fields
                        </button>
                    </div>
                    {paste_message && <small style={{ color: paste_message.ok ? "var(--success)" : "var(--danger)" }}>{paste_message.text}</small>}
                </div>
                {(check.state === "failed" || save_error) && (
                    <div className="notice notice-error" role="alert" data-testid="source-error">
                        <div>
                            <strong>{save_error ? "Could not save" : "Connection failed"}:</strong> {save_error?.message ?? (check.state === "failed" ? check.message : "")}
                            {refused_role && <RoleRecipe target={recipe_target} />}
                        </div>
                    </div>
                )}
                {saved && <RoleWarnings warnings={saved.warnings} target={recipe_target} />}
                {!saved && check.state === "ok" && <RoleWarnings warnings={check.warnings} target={recipe_target} />}
                <div className="form-grid">
                    {input("prefix", "Name", { placeholder: "pagila", required: true, autoComplete: "off" }, "Shown in the database selector; also usable as a table prefix (pagila.film).", true)}
                    {input("host", "Host", { placeholder: "db.example.com", autoComplete: "off", spellCheck: false })}
                    {input("port", "Port", { inputMode: "numeric" })}
                    {input("database", "Database", { autoComplete: "off", spellCheck: false }, undefined, true)}
                    {input("user", "User", { autoComplete: "off", spellCheck: false })}
                    <label className="field">
                        <span>SSL</span>
                        <select className="select" value={form.sslmode} onChange={(event) => set("sslmode", event.target.value)} name="sslmode">
                            {sslmodes.map((mode) => (
                                <option key={mode} value={mode}>
                                    {mode}
                                </option>
                            ))}
                        </select>
                    </label>
                    {input(
                        "password",
                        "Password",
                        { type: "password", autoComplete: "new-password", placeholder: editing?.has_password ? "•••••••• (unchanged)" : "" },
                        editing ? "Leave blank to keep the stored password; type it to test the connection." : "Stored encrypted; never shown again.",
                        true,
                    )}
                    {input("schema", "Default schema", { autoComplete: "off", spellCheck: false }, "Tables here are listed without a schema name.", true)}
                </div>
            </form>
        </Dialog>
    );
}
