// The editor's tabs and their query runs, kept above the pages so that runs go on while the sources page is open.
// Tabs (text, source, limit) and each tab's last finished run are saved per team in localStorage.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { cancel_query, execute_query, explain_query } from "../../api/direct_query";
import { ApiError, is_abort } from "../../api/http";
import type { TeamId } from "../../api/types";
import { read_json, remove_keys_with_prefix, write_json } from "../../lib/storage";
import type { ChartSettings } from "../results/chart_model";
import { query_error_from, restore_run, save_run, type QueryRun, type RunMode, type SavedRun } from "./query_run";

export interface Tab {
    id: string;
    title: string;
    sql: string;
    source_id: string | null;
    max_rows: number;
    /** The user named the tab; automatic titles no longer replace it. */
    named: boolean;
    /** The chart builder's settings for this tab's results; null until the user changes one. */
    chart: ChartSettings | null;
    /** The output pane shows the chart rather than the grid for this tab's results. */
    chart_shown: boolean;
}

interface SavedTabs {
    tabs: Tab[];
    active_id: string;
    counter: number;
}

export const default_max_rows = 1000;
export const max_rows_choices = [100, 1000, 10_000, 100_000] as const;

export interface NewTab {
    sql?: string;
    source_id?: string | null;
    title?: string;
}

interface WorkbenchApi {
    tabs: Tab[];
    active: Tab;
    runs: Record<string, QueryRun | undefined>;
    new_tab(init?: NewTab): string;
    close_tab(id: string): void;
    activate(id: string): void;
    update_tab(id: string, patch: Partial<Omit<Tab, "id">>): void;
    run(tab_id: string, sql: string, offset: number, max_rows?: number, mode?: RunMode): void;
    cancel(tab_id: string): void;
}

const WorkbenchContext = createContext<WorkbenchApi | null>(null);

function new_id(): string {
    return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36);
}

function blank_tab(counter: number, init: NewTab = {}): Tab {
    return {
        id: new_id(),
        title: init.title ?? `Query ${counter}`,
        sql: init.sql ?? "",
        source_id: init.source_id ?? null,
        max_rows: default_max_rows,
        named: init.title !== undefined,
        chart: null,
        chart_shown: false,
    };
}

function load_tabs(key: string): SavedTabs {
    const saved = read_json<SavedTabs | null>(key, null);
    if (saved && Array.isArray(saved.tabs) && saved.tabs.length > 0) {
        const tabs = saved.tabs.map((tab) => ({ ...blank_tab(1), ...tab }));
        const active_id = tabs.some((tab) => tab.id === saved.active_id) ? saved.active_id : tabs[0].id;
        return { tabs, active_id, counter: Math.max(saved.counter ?? tabs.length, tabs.length) };
    }
    const first = blank_tab(1);
    return { tabs: [first], active_id: first.id, counter: 1 };
}

export function WorkbenchProvider({ team_id, children }: { team_id: TeamId; children: ReactNode }) {
    const tabs_key = `metahog.tabs.${team_id}`;
    const result_prefix = `metahog.result.${team_id}.`;
    const [state, set_state_value] = useState<SavedTabs>(() => load_tabs(tabs_key));
    const [runs, set_runs_value] = useState<Record<string, QueryRun | undefined>>({});
    const controllers = useRef(new Map<string, AbortController>());
    const next_run_id = useRef(1);
    // Refs mirror the state synchronously: async callbacks (a finished fetch) must see the latest runs, and
    // new_tab must know the id it created without waiting for a render.
    const state_ref = useRef(state);
    const runs_ref = useRef(runs);

    const set_state = useCallback((update: (current: SavedTabs) => SavedTabs) => {
        const next = update(state_ref.current);
        if (next !== state_ref.current) {
            state_ref.current = next;
            set_state_value(next);
        }
    }, []);

    const set_runs = useCallback((update: (current: Record<string, QueryRun | undefined>) => Record<string, QueryRun | undefined>) => {
        const next = update(runs_ref.current);
        if (next !== runs_ref.current) {
            runs_ref.current = next;
            set_runs_value(next);
        }
    }, []);

    // Typing changes the text on every key: saving is debounced so the UI never waits on storage.
    useEffect(() => {
        const timer = window.setTimeout(() => write_json(tabs_key, state), 250);
        return () => window.clearTimeout(timer);
    }, [state, tabs_key]);

    // Switching team or signing out unmounts the store: whatever the debounce still holds is saved first.
    useEffect(() => () => void write_json(tabs_key, state_ref.current), [tabs_key]);

    useEffect(() => {
        const save_now = () => write_json(tabs_key, state);
        window.addEventListener("pagehide", save_now);
        return () => window.removeEventListener("pagehide", save_now);
    }, [state, tabs_key]);

    // A finished run of a tab that has none in memory is restored lazily, when the tab is first shown.
    useEffect(() => {
        const id = state.active_id;
        if (runs_ref.current[id]) {
            return;
        }
        const saved = read_json<SavedRun | null>(result_prefix + id, null);
        if (saved) {
            const restored = restore_run(saved, next_run_id.current++);
            set_runs((current) => (current[id] ? current : { ...current, [id]: restored }));
        }
    }, [state.active_id, result_prefix]);

    // Drop results of tabs that no longer exist (closed in another window, or older versions).
    const tab_ids = state.tabs.map((tab) => tab.id).join(" ");
    useEffect(() => {
        remove_keys_with_prefix(result_prefix, new Set(tab_ids.split(" ").map((id) => result_prefix + id)));
    }, [tab_ids, result_prefix]);

    const new_tab = useCallback((init: NewTab = {}) => {
        let created = "";
        set_state((current) => {
            const active = current.tabs.find((tab) => tab.id === current.active_id);
            const counter = current.counter + 1;
            const tab = blank_tab(counter, { source_id: active?.source_id ?? null, ...init });
            created = tab.id;
            return { tabs: [...current.tabs, tab], active_id: tab.id, counter };
        });
        return created;
    }, []);

    const close_tab = useCallback(
        (id: string) => {
            controllers.current.get(id)?.abort();
            controllers.current.delete(id);
            set_runs((current) => {
                const next = { ...current };
                delete next[id];
                return next;
            });
            write_json(result_prefix + id, null);
            set_state((current) => {
                const index = current.tabs.findIndex((tab) => tab.id === id);
                if (index < 0) {
                    return current;
                }
                const remaining = current.tabs.filter((tab) => tab.id !== id);
                if (remaining.length === 0) {
                    const counter = current.counter + 1;
                    const tab = blank_tab(counter, { source_id: current.tabs[index].source_id });
                    return { tabs: [tab], active_id: tab.id, counter };
                }
                const active_id = current.active_id === id ? remaining[Math.min(index, remaining.length - 1)].id : current.active_id;
                return { ...current, tabs: remaining, active_id };
            });
        },
        [result_prefix],
    );

    const activate = useCallback((id: string) => {
        set_state((current) => (current.tabs.some((tab) => tab.id === id) ? { ...current, active_id: id } : current));
    }, []);

    const update_tab = useCallback((id: string, patch: Partial<Omit<Tab, "id">>) => {
        set_state((current) => ({
            ...current,
            tabs: current.tabs.map((tab) => (tab.id === id ? { ...tab, ...patch } : tab)),
        }));
    }, []);

    const finish = useCallback(
        (tab_id: string, run_id: number, patch: Partial<QueryRun>, raw: string | null) => {
            const holder: { finished: QueryRun | null } = { finished: null };
            set_runs((current) => {
                const run = current[tab_id];
                // A newer run, a cancel or a closed tab makes this answer stale: it is dropped.
                if (!run || run.run_id !== run_id || run.status !== "running") {
                    return current;
                }
                const finished: QueryRun = { ...run, ...patch, cancelling: false, finished_at: Date.now() };
                holder.finished = finished;
                return { ...current, [tab_id]: finished };
            });
            if (holder.finished) {
                const saved = save_run(holder.finished, raw);
                if (saved && !write_json(result_prefix + tab_id, saved) && saved.raw) {
                    write_json(result_prefix + tab_id, { ...saved, raw: undefined, partial: true });
                }
            }
        },
        [result_prefix, set_runs],
    );

    const run = useCallback(
        (tab_id: string, sql: string, offset: number, max_rows?: number, mode: RunMode = "query") => {
            const tab = state_ref.current.tabs.find((candidate) => candidate.id === tab_id);
            if (!tab || !tab.source_id || sql.trim() === "") {
                return;
            }
            controllers.current.get(tab_id)?.abort();
            const controller = new AbortController();
            controllers.current.set(tab_id, controller);
            const run_id = next_run_id.current++;
            const limit = max_rows ?? tab.max_rows;
            if (max_rows !== undefined && max_rows !== tab.max_rows) {
                update_tab(tab_id, { max_rows });
            }
            const started: QueryRun = {
                run_id,
                status: "running",
                mode,
                sql,
                source_id: tab.source_id,
                offset,
                max_rows: limit,
                client_query_id: new_id(),
                started_at: Date.now(),
            };
            set_runs((current) => ({ ...current, [tab_id]: started }));
            const request = { source_id: tab.source_id, sql, max_rows: limit, client_query_id: started.client_query_id };
            const answer: Promise<{ patch: Partial<QueryRun>; raw: string | null }> =
                mode === "query"
                    ? execute_query(team_id, request, controller.signal).then(({ result, raw }) => ({ patch: { status: "success", result }, raw }))
                    : explain_query(team_id, { ...request, analyze: mode === "analyze" }, controller.signal).then((plan) => ({ patch: { status: "success", plan }, raw: null }));
            answer
                .then(({ patch, raw }) => finish(tab_id, run_id, patch, raw))
                .catch((caught: unknown) => {
                    if (is_abort(caught)) {
                        finish(tab_id, run_id, { status: "cancelled" }, null);
                    } else if (caught instanceof ApiError && caught.code === "query_cancelled") {
                        finish(tab_id, run_id, { status: "cancelled" }, null);
                    } else {
                        finish(tab_id, run_id, { status: "error", error: query_error_from(caught) }, null);
                    }
                })
                .finally(() => {
                    if (controllers.current.get(tab_id) === controller) {
                        controllers.current.delete(tab_id);
                    }
                });
        },
        [team_id, finish, update_tab, set_runs],
    );

    const cancel = useCallback(
        (tab_id: string) => {
            const current = runs_ref.current[tab_id];
            if (!current || current.status !== "running" || current.cancelling) {
                return;
            }
            set_runs((all) => ({ ...all, [tab_id]: all[tab_id] && { ...all[tab_id]!, cancelling: true } }));
            const controller = controllers.current.get(tab_id);
            // Ask the server to cancel on the database first; aborting the request alone could leave it running.
            // Once the server has answered, the run is over for the user: any late answer to the execute call
            // (its "query_cancelled" error, or rows that won the race) is dropped as stale.
            const stop = () => {
                finish(tab_id, current.run_id, { status: "cancelled" }, null);
                controller?.abort();
            };
            const give_up = window.setTimeout(stop, 3000);
            cancel_query(team_id, current.client_query_id)
                .catch(() => undefined)
                .finally(() => {
                    window.clearTimeout(give_up);
                    stop();
                });
        },
        [team_id, finish, set_runs],
    );

    const active = state.tabs.find((tab) => tab.id === state.active_id) ?? state.tabs[0];
    const api = useMemo(
        () => ({ tabs: state.tabs, active, runs, new_tab, close_tab, activate, update_tab, run, cancel }),
        [state.tabs, active, runs, new_tab, close_tab, activate, update_tab, run, cancel],
    );
    return <WorkbenchContext.Provider value={api}>{children}</WorkbenchContext.Provider>;
}

export function use_workbench(): WorkbenchApi {
    const api = useContext(WorkbenchContext);
    if (!api) {
        throw new Error("use_workbench outside WorkbenchProvider");
    }
    return api;
}
