// The editor's tabs: switch, rename (double-click or F2), close, add; a dot marks a tab whose query is running.
// Keyboard (the ARIA tabs pattern): one Tab stop for the tab list, ←/→/Home/End move between tabs and show them,
// Delete closes the focused tab, F2 renames it; the active tab's close button and "New tab" are Tab stops of their own.
import { useRef, useState, type KeyboardEvent } from "react";
import { CloseIcon, PlusIcon } from "../../components/icons";
import type { QueryRun } from "./query_run";
import type { Tab } from "./workbench_store";

interface TabBarProps {
    tabs: Tab[];
    active_id: string;
    runs: Record<string, QueryRun | undefined>;
    on_activate(id: string): void;
    on_close(id: string): void;
    on_new(): void;
    on_rename(id: string, title: string): void;
}

export function TabBar({ tabs, active_id, runs, on_activate, on_close, on_new, on_rename }: TabBarProps) {
    const [renaming, set_renaming] = useState<string | null>(null);
    const [draft, set_draft] = useState("");
    const list = useRef<HTMLDivElement>(null);

    const focus_tab = (id: string) => {
        // The tab's button exists after the next render (activation re-renders the list).
        window.requestAnimationFrame(() => list.current?.querySelector<HTMLElement>(`[data-tab-id="${CSS.escape(id)}"]`)?.focus());
    };

    const commit = () => {
        if (renaming && draft.trim()) {
            on_rename(renaming, draft.trim());
        }
        const id = renaming;
        set_renaming(null);
        if (id) {
            focus_tab(id);
        }
    };

    const close = (id: string) => {
        const index = tabs.findIndex((tab) => tab.id === id);
        const next = tabs[index + 1] ?? tabs[index - 1];
        on_close(id);
        if (next) {
            focus_tab(id === active_id ? next.id : active_id);
        }
    };

    const on_tab_key = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
        const tab = tabs[index];
        let target: Tab | undefined;
        switch (event.key) {
            case "ArrowRight":
                target = tabs[(index + 1) % tabs.length];
                break;
            case "ArrowLeft":
                target = tabs[(index - 1 + tabs.length) % tabs.length];
                break;
            case "Home":
                target = tabs[0];
                break;
            case "End":
                target = tabs[tabs.length - 1];
                break;
            case "Delete":
                event.preventDefault();
                close(tab.id);
                return;
            case "F2":
                event.preventDefault();
                set_draft(tab.title);
                set_renaming(tab.id);
                return;
            default:
                return;
        }
        event.preventDefault();
        on_activate(target.id);
        focus_tab(target.id);
    };

    return (
        <div className="tabbar">
            <div className="tablist" role="tablist" aria-label="Query tabs" ref={list}>
                {tabs.map((tab, index) => {
                    const running = runs[tab.id]?.status === "running";
                    const active = tab.id === active_id;
                    return (
                        <div key={tab.id} className="tab" role="presentation" aria-selected={active} onMouseDown={(event) => event.button === 1 && (event.preventDefault(), close(tab.id))}>
                            {renaming === tab.id ? (
                                <input
                                    className="input tab-rename"
                                    value={draft}
                                    autoFocus
                                    aria-label="Tab name"
                                    onChange={(event) => set_draft(event.target.value)}
                                    onBlur={commit}
                                    onKeyDown={(event) => {
                                        if (event.key === "Enter") {
                                            commit();
                                        } else if (event.key === "Escape") {
                                            set_renaming(null);
                                            focus_tab(tab.id);
                                        }
                                    }}
                                />
                            ) : (
                                <button
                                    type="button"
                                    role="tab"
                                    id={`tab-${tab.id}`}
                                    data-tab-id={tab.id}
                                    aria-selected={active}
                                    tabIndex={active ? 0 : -1}
                                    className="tab-title"
                                    title={`${tab.title} — double-click or F2 to rename, Delete to close`}
                                    onClick={() => on_activate(tab.id)}
                                    onDoubleClick={() => {
                                        set_draft(tab.title);
                                        set_renaming(tab.id);
                                    }}
                                    onKeyDown={(event) => on_tab_key(event, index)}
                                >
                                    <span className="tab-label">{tab.title}</span>
                                    {running && <span className="running-dot" aria-label="running" />}
                                </button>
                            )}
                            <button
                                type="button"
                                className="icon-btn tab-close"
                                aria-label={`Close ${tab.title}`}
                                title="Close tab (Delete)"
                                tabIndex={active ? 0 : -1}
                                onClick={() => close(tab.id)}
                            >
                                <CloseIcon size={12} />
                            </button>
                        </div>
                    );
                })}
            </div>
            <button type="button" className="icon-btn new-tab" aria-label="New tab" title="New tab" onClick={on_new}>
                <PlusIcon />
            </button>
        </div>
    );
}
