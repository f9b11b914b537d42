// The SQL workbench page: schema sidebar, tabs, toolbar, editor and output pane, wired to the tab store.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { TeamId } from "../../api/types";
import { LinkIcon, PlayIcon, StopIcon } from "../../components/icons";
import { use_toast } from "../../components/toast";
import { copy_text } from "../../lib/download";
import { navigate, use_location } from "../../lib/router";
import { character_position_to_offset } from "../../lib/sql_position";
import { read_json, write_json } from "../../lib/storage";
import { build_share_url, parse_open_query, plan_open_query, strip_open_query } from "../../lib/url_state";
import { ResultPane } from "../results/ResultPane";
import { SchemaBrowser } from "../schema/SchemaBrowser";
import type { SchemaTable } from "../schema/schema_model";
import { use_schema } from "../schema/use_schema";
import { source_name, use_sources } from "../sources/sources_context";
import { build_completion_schema } from "./completion";
import { DatabaseSelector } from "./DatabaseSelector";
import { dialect_for } from "./dialect";
import { SqlEditor, type SqlEditorHandle } from "./SqlEditor";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { TabBar } from "./TabBar";
import { max_rows_choices, use_workbench } from "./workbench_store";
import type { RunMode } from "./query_run";

const is_mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
const height_key = "metahog.editor_height";

export function EditorPage({ team_id }: { team_id: TeamId }) {
    const workbench = use_workbench();
    const { sources, loading: sources_loading } = use_sources();
    const toast = use_toast();
    const location = use_location();
    const editor = useRef<SqlEditorHandle>(null);
    const consumed_link = useRef<string | null>(null);
    const [editor_height, set_editor_height] = useState<number>(() => read_json(height_key, 260));
    const [shortcuts_open, set_shortcuts_open] = useState(false);

    const { active, runs } = workbench;
    const run = runs[active.id];
    const source = sources.find((candidate) => candidate.id === active.source_id) ?? null;
    const dialect = dialect_for(source?.source_type);
    const schema_state = use_schema(team_id, active.source_id);
    const default_schema = schema_state.schema?.default_schema || source?.job_inputs?.schema || dialect.default_schema;
    const completion_schema = useMemo(
        () => (schema_state.schema ? build_completion_schema(schema_state.schema, default_schema, source?.prefix ?? null) : null),
        [schema_state.schema, default_schema, source?.prefix],
    );

    // A shared link opens its query in a tab (reusing an empty one), then leaves the address bar clean.
    useEffect(() => {
        if (location.pathname !== "/sql" && location.pathname !== "/") {
            return;
        }
        const request = parse_open_query(location.search);
        if (!request || consumed_link.current === location.search) {
            return;
        }
        consumed_link.current = location.search;
        const plan = plan_open_query(request, { sql: active.sql, source_id: active.source_id, has_run: runs[active.id] !== undefined });
        if (plan.reuse_active_tab) {
            workbench.update_tab(active.id, { sql: plan.sql, source_id: plan.source_id });
        } else {
            workbench.new_tab({ sql: plan.sql, source_id: plan.source_id });
        }
        navigate("/sql" + strip_open_query(location.search), true);
    }, [location.pathname, location.search, active, runs, workbench]);

    // A tab without a database gets the first one, so a new user can run a query straight away.
    useEffect(() => {
        if (active.source_id === null && sources.length > 0) {
            workbench.update_tab(active.id, { source_id: sources[0].id });
        }
    }, [active.id, active.source_id, sources, workbench]);

    // Mark the database's error position in the editor, if the text is still the one that was run.
    useEffect(() => {
        const handle = editor.current;
        if (!handle) {
            return;
        }
        if (!run || run.status !== "error" || run.error?.position === undefined) {
            handle.clear_error();
            return;
        }
        if (active.sql.slice(run.offset, run.offset + run.sql.length) !== run.sql) {
            return;
        }
        const offset = run.offset + character_position_to_offset(run.sql, run.error.position);
        handle.mark_error(offset, run.error.message);
        // Only a new run or a tab switch re-marks; typing must not move the mark.
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [active.id, run?.run_id, run?.status]);

    const run_query = useCallback(
        (max_rows?: number, mode: RunMode = "query") => {
            const handle = editor.current;
            if (!handle) {
                return;
            }
            if (!active.source_id) {
                toast.show("Choose a database first.", "error");
                return;
            }
            const target = handle.run_target();
            if (target.sql.trim() === "") {
                toast.show("Nothing to run: write a query first.", "error");
                return;
            }
            handle.clear_error();
            workbench.run(active.id, target.sql, target.offset, max_rows, mode);
        },
        [active.id, active.source_id, toast, workbench],
    );

    const rerun_with_limit = useCallback(
        (max_rows: number) => {
            if (run) {
                workbench.update_tab(active.id, { max_rows });
                workbench.run(active.id, run.sql, run.offset, max_rows);
            }
        },
        [active.id, run, workbench],
    );

    const query_table = useCallback(
        (table: SchemaTable) => {
            const sql = dialect.select_star(dialect.table_reference(table.schema, table.name), 100);
            const id = workbench.new_tab({ sql, source_id: active.source_id, title: table.name });
            workbench.run(id, sql, 0);
        },
        [dialect, active.source_id, workbench],
    );

    // Ctrl/Cmd+Enter runs from anywhere on the page (the grid, the schema tree), not only inside the editor.
    useEffect(() => {
        const on_key_down = (event: KeyboardEvent) => {
            if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
                const target = event.target as HTMLElement | null;
                if (target?.closest(".cm-editor, dialog")) {
                    return;
                }
                event.preventDefault();
                run_query();
            }
        };
        window.addEventListener("keydown", on_key_down);
        return () => window.removeEventListener("keydown", on_key_down);
    }, [run_query]);

    const share = async () => {
        const url = build_share_url(window.location.origin, active.sql, active.source_id);
        toast.show((await copy_text(url)) ? "Link to this query copied" : "Could not copy the link");
    };

    const start_drag = (event: React.MouseEvent) => {
        event.preventDefault();
        const start_y = event.clientY;
        const start_height = editor_height;
        const on_move = (move: MouseEvent) => set_editor_height(Math.max(80, Math.min(window.innerHeight - 220, start_height + move.clientY - start_y)));
        const on_up = () => {
            window.removeEventListener("mousemove", on_move);
            window.removeEventListener("mouseup", on_up);
        };
        window.addEventListener("mousemove", on_move);
        window.addEventListener("mouseup", on_up);
    };

    useEffect(() => {
        write_json(height_key, editor_height);
    }, [editor_height]);

    const running = run?.status === "running";
    const schema_title = source ? source_name(source) : "Schema";

    return (
        <div className="workbench">
            <SchemaBrowser
                title={schema_title}
                schema={schema_state.schema}
                loading={schema_state.loading}
                error={schema_state.error}
                dialect={dialect}
                default_schema={default_schema}
                has_source={active.source_id !== null}
                on_refresh={schema_state.refresh}
                on_insert={(text) => editor.current?.insert(text)}
                on_query={query_table}
            />
            <div className="editor-area">
                <TabBar
                    tabs={workbench.tabs}
                    active_id={active.id}
                    runs={runs}
                    on_activate={workbench.activate}
                    on_close={workbench.close_tab}
                    on_new={() => workbench.new_tab()}
                    on_rename={(id, title) => workbench.update_tab(id, { title, named: true })}
                />
                <div className="toolbar" role="group" aria-label="Query actions">
                    <DatabaseSelector
                        sources={sources}
                        loading={sources_loading}
                        value={active.source_id}
                        on_change={(source_id) => workbench.update_tab(active.id, { source_id })}
                        on_add={() => navigate("/sources?new=1")}
                    />
                    {running ? (
                        <button type="button" className="btn btn-danger" onClick={() => workbench.cancel(active.id)} disabled={run?.cancelling} data-testid="cancel-button">
                            <StopIcon size={12} /> {run?.cancelling ? "Cancelling…" : "Cancel"}
                        </button>
                    ) : (
                        <button type="button" className="btn btn-primary" onClick={() => run_query()} disabled={!active.source_id} data-testid="run-button" title="Run the selection, or the statement under the cursor">
                            <PlayIcon size={12} /> Run <kbd>{is_mac ? "⌘" : "Ctrl"} ↵</kbd>
                        </button>
                    )}
                    <button
                        type="button"
                        className="btn"
                        onClick={() => run_query(undefined, "explain")}
                        disabled={!active.source_id || running}
                        title="Show the database's plan for the statement without running it"
                    >
                        Explain
                    </button>
                    <label className="inline">
                        Limit
                        <select
                            className="select select-sm"
                            value={active.max_rows}
                            aria-label="Maximum rows"
                            onChange={(event) => workbench.update_tab(active.id, { max_rows: Number(event.target.value) })}
                        >
                            {max_rows_choices.map((choice) => (
                                <option key={choice} value={choice}>
                                    {choice.toLocaleString("en-US")} rows
                                </option>
                            ))}
                        </select>
                    </label>
                    <span className="spacer" />
                    <button type="button" className="btn btn-sm btn-ghost" onClick={share} title="Copy a link that opens this query on this database">
                        <LinkIcon size={14} /> Copy link
                    </button>
                    <button type="button" className="icon-btn" onClick={() => set_shortcuts_open(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts">
                        <span aria-hidden="true" className="shortcut-glyph">?</span>
                    </button>
                </div>
                {!sources_loading && sources.length === 0 && (
                    <div className="truncated-bar" style={{ background: "var(--accent-soft)", color: "var(--text)" }}>
                        <span>Connect a database to start writing queries.</span>
                        <button type="button" className="btn btn-sm btn-primary" onClick={() => navigate("/sources?new=1")}>
                            Add a database
                        </button>
                    </div>
                )}
                <div className="split">
                    <div className="editor-host" style={{ height: editor_height }}>
                        <SqlEditor
                            ref={editor}
                            tab_id={active.id}
                            value={active.sql}
                            dialect={dialect}
                            schema={completion_schema}
                            on_change={(sql) => workbench.update_tab(active.id, { sql })}
                            on_run={() => run_query()}
                        />
                    </div>
                    <div
                        className="splitter"
                        role="separator"
                        aria-orientation="horizontal"
                        aria-label="Resize editor"
                        aria-valuenow={editor_height}
                        aria-valuemin={80}
                        aria-valuemax={Math.max(80, window.innerHeight - 220)}
                        title="Drag, or focus and press ↑ ↓, to resize the editor"
                        tabIndex={0}
                        onMouseDown={start_drag}
                        onKeyDown={(event) => {
                            if (event.key === "ArrowUp") {
                                set_editor_height((height) => Math.max(80, height - 24));
                                event.preventDefault();
                            } else if (event.key === "ArrowDown") {
                                set_editor_height((height) => Math.min(window.innerHeight - 220, height + 24));
                                event.preventDefault();
                            }
                        }}
                    />
                    <ResultPane
                        key={active.id}
                        run={run}
                        team_id={team_id}
                        dialect={dialect}
                        file_stem={active.title.replace(/[^\w-]+/g, "_").toLowerCase() || "query"}
                        on_reveal={(offset) => editor.current?.reveal(offset)}
                        on_cancel={() => workbench.cancel(active.id)}
                        on_rerun_with_limit={rerun_with_limit}
                        on_analyze={() => run && workbench.run(active.id, run.sql, run.offset, undefined, "analyze")}
                        chart_settings={active.chart}
                        on_chart_settings={(chart) => workbench.update_tab(active.id, { chart })}
                        chart_shown={active.chart_shown}
                        on_chart_shown={(chart_shown) => workbench.update_tab(active.id, { chart_shown })}
                    />
                </div>
            </div>
            <ShortcutsDialog open={shortcuts_open} on_close={() => set_shortcuts_open(false)} />
        </div>
    );
}
