// The editor's tabs: switch, rename (double-click), close, add; a dot marks a tab whose query is running.
import { useState } from "react";
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

    const commit = () => {
        if (renaming && draft.trim()) {
            on_rename(renaming, draft.trim());
        }
        set_renaming(null);
    };

    return (
        <div className="tabbar" role="tablist" aria-label="Query tabs">
            {tabs.map((tab) => {
                const running = runs[tab.id]?.status === "running";
                return (
                    <div key={tab.id} className="tab" role="presentation" aria-selected={tab.id === active_id} onMouseDown={(event) => event.button === 1 && (event.preventDefault(), on_close(tab.id))}>
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
                                    }
                                }}
                            />
                        ) : (
                            <button
                                type="button"
                                role="tab"
                                aria-selected={tab.id === active_id}
                                className="tab-title"
                                title={`${tab.title} — double-click to rename`}
                                onClick={() => on_activate(tab.id)}
                                onDoubleClick={() => {
                                    set_draft(tab.title);
                                    set_renaming(tab.id);
                                }}
                                onKeyDown={(event) => {
                                    if (event.key === "F2") {
                                        set_draft(tab.title);
                                        set_renaming(tab.id);
                                    }
                                }}
                            >
                                {tab.title}
                            </button>
                        )}
                        {running && <span className="running-dot" aria-label="running" />}
                        <button type="button" className="icon-btn tab-close" aria-label={`Close ${tab.title}`} title="Close tab" onClick={() => on_close(tab.id)}>
                            <CloseIcon size={12} />
                        </button>
                    </div>
                );
            })}
            <button type="button" className="icon-btn" style={{ margin: "4px 6px", flex: "none" }} aria-label="New tab" title="New tab" onClick={on_new}>
                <PlusIcon />
            </button>
        </div>
    );
}
