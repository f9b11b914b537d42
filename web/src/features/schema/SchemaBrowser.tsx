// The schema sidebar: a virtualised tree of schemas, tables and columns with an instant filter, click to insert a
// name, a "Query" action and refresh. Keyboard: arrows move, Right/Left expand/collapse, Enter inserts, Q queries.
import { useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { SchemaResponse } from "../../api/types";
import { ColumnIcon, KeyIcon, PlayIcon, RefreshIcon, SchemaIcon, TableIcon, ViewIcon } from "../../components/icons";
import type { Dialect } from "../editor/dialect";
import { build_schema_model, visible_rows, type SchemaTable, type TreeRow } from "./schema_model";

interface SchemaBrowserProps {
    title: string;
    schema: SchemaResponse | null;
    loading: boolean;
    error: string | null;
    dialect: Dialect;
    default_schema: string;
    has_source: boolean;
    on_refresh(): void;
    on_insert(text: string): void;
    on_query(table: SchemaTable): void;
}

const row_height = 26;

/** "16k", "1.2M": row estimates are approximate, and the tree has little room. */
function short_count(count: number): string {
    if (count < 1000) {
        return String(Math.max(0, Math.round(count)));
    }
    if (count < 1_000_000) {
        return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
    }
    return `${(count / 1_000_000).toFixed(count < 10_000_000 ? 1 : 0)}M`;
}

const kind_labels: Record<string, string> = {
    view: "view",
    materialized_view: "materialized view",
    partitioned_table: "partitioned table",
    foreign_table: "foreign table",
};

function highlight(text: string, needle: string) {
    if (!needle) {
        return text;
    }
    const index = text.toLowerCase().indexOf(needle);
    if (index < 0) {
        return text;
    }
    return (
        <>
            {text.slice(0, index)}
            <mark className="hit">{text.slice(index, index + needle.length)}</mark>
            {text.slice(index + needle.length)}
        </>
    );
}

export function SchemaBrowser(props: SchemaBrowserProps) {
    const [filter, set_filter] = useState("");
    const deferred_filter = useDeferredValue(filter);
    const [expanded, set_expanded] = useState<ReadonlySet<string>>(new Set());
    const [collapsed_schemas, set_collapsed_schemas] = useState<ReadonlySet<string>>(new Set());
    const [active_index, set_active_index] = useState(0);
    const scroller = useRef<HTMLDivElement>(null);

    const model = useMemo(() => (props.schema ? build_schema_model(props.schema, props.default_schema) : null), [props.schema, props.default_schema]);
    const needle = deferred_filter.trim().toLowerCase();
    const rows = useMemo(() => (model ? visible_rows(model, deferred_filter, expanded, collapsed_schemas) : []), [model, deferred_filter, expanded, collapsed_schemas]);

    const virtualizer = useVirtualizer({
        count: rows.length,
        getScrollElement: () => scroller.current,
        estimateSize: () => row_height,
        overscan: 12,
    });

    useEffect(() => {
        set_active_index((index) => Math.min(index, Math.max(0, rows.length - 1)));
    }, [rows.length]);

    const toggle_table = (key: string) =>
        set_expanded((current) => {
            const next = new Set(current);
            if (next.has(key)) {
                next.delete(key);
            } else {
                next.add(key);
            }
            return next;
        });

    const toggle_schema = (name: string) =>
        set_collapsed_schemas((current) => {
            const next = new Set(current);
            if (next.has(name)) {
                next.delete(name);
            } else {
                next.add(name);
            }
            return next;
        });

    const reference = (table: SchemaTable) => props.dialect.table_reference(table.schema, table.name);

    const activate_row = (row: TreeRow) => {
        if (row.kind === "schema") {
            toggle_schema(row.name);
        } else if (row.kind === "table") {
            props.on_insert(reference(row.table));
        } else {
            props.on_insert(props.dialect.quote_identifier(row.column.name));
        }
    };

    const on_key_down = (event: KeyboardEvent<HTMLDivElement>) => {
        const row = rows[active_index];
        const move = (index: number) => {
            const clamped = Math.max(0, Math.min(rows.length - 1, index));
            set_active_index(clamped);
            virtualizer.scrollToIndex(clamped);
        };
        switch (event.key) {
            case "ArrowDown":
                move(active_index + 1);
                break;
            case "ArrowUp":
                move(active_index - 1);
                break;
            case "Home":
                move(0);
                break;
            case "End":
                move(rows.length - 1);
                break;
            case "PageDown":
                move(active_index + 15);
                break;
            case "PageUp":
                move(active_index - 15);
                break;
            case "ArrowRight":
                if (row?.kind === "table" && !row.expanded) {
                    toggle_table(row.table.key);
                } else if (row?.kind === "schema" && !row.expanded) {
                    toggle_schema(row.name);
                } else {
                    move(active_index + 1);
                }
                break;
            case "ArrowLeft":
                if (row?.kind === "table" && row.expanded) {
                    toggle_table(row.table.key);
                } else if (row?.kind === "schema" && row.expanded) {
                    toggle_schema(row.name);
                } else if (row?.kind === "column") {
                    move(rows.findIndex((candidate) => candidate.kind === "table" && candidate.table.key === row.table.key));
                }
                break;
            case "Enter":
                if (row) {
                    activate_row(row);
                }
                break;
            case "q":
            case "Q":
                if (row && row.kind !== "schema") {
                    props.on_query(row.table);
                }
                break;
            default:
                return;
        }
        event.preventDefault();
    };

    let body: React.ReactNode;
    if (!props.has_source) {
        body = <div className="sidebar-message">Choose a database in the toolbar to browse its tables.</div>;
    } else if (props.error) {
        body = (
            <div className="sidebar-message">
                <div className="notice notice-error" role="alert">
                    Could not load the schema: {props.error}
                </div>
            </div>
        );
    } else if (!model) {
        body = (
            <div className="sidebar-message" style={{ display: "flex", gap: 8, alignItems: "center" }}>
                <span className="spinner" /> Loading tables…
            </div>
        );
    } else if (rows.length === 0) {
        body = <div className="sidebar-message">{needle ? `No table or column matches “${deferred_filter.trim()}”.` : "This database has no tables."}</div>;
    } else {
        body = (
            <div
                ref={scroller}
                className="tree"
                role="tree"
                aria-label="Tables"
                tabIndex={0}
                aria-activedescendant={rows[active_index] ? `tree-${active_index}` : undefined}
                onKeyDown={on_key_down}
            >
                <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
                    {virtualizer.getVirtualItems().map((item) => {
                        const row = rows[item.index];
                        const active = item.index === active_index;
                        const style = { transform: `translateY(${item.start}px)` };
                        const common = {
                            id: `tree-${item.index}`,
                            role: "treeitem",
                            "aria-selected": active,
                            style,
                            onMouseDown: () => set_active_index(item.index),
                        };
                        if (row.kind === "schema") {
                            return (
                                <div key={row.id} {...common} aria-expanded={row.expanded} className={`tree-row schema${active ? " active" : ""}`} onClick={() => toggle_schema(row.name)}>
                                    <span className="chevron">{row.expanded ? "▼" : "▶"}</span>
                                    <SchemaIcon className="tree-icon" size={14} />
                                    <span className="name">{row.name}</span>
                                    <span className="type">{row.count}</span>
                                </div>
                            );
                        }
                        if (row.kind === "table") {
                            return (
                                <div
                                    key={row.id}
                                    {...common}
                                    aria-expanded={row.expanded}
                                    className={`tree-row${active ? " active" : ""}`}
                                    style={{ ...style, paddingLeft: 4 }}
                                    title={`${reference(row.table)}${kind_labels[row.table.kind] ? ` (${kind_labels[row.table.kind]})` : ""}${
                                        row.table.estimated_rows !== null ? ` · about ${row.table.estimated_rows.toLocaleString("en-US")} rows` : ""
                                    }${row.table.comment ? ` — ${row.table.comment}` : ""}\nClick to insert the name, double-click or → to show columns, Q to query`}
                                    onClick={() => props.on_insert(reference(row.table))}
                                    onDoubleClick={() => toggle_table(row.table.key)}
                                >
                                    <span
                                        className="chevron"
                                        onClick={(event) => {
                                            event.stopPropagation();
                                            toggle_table(row.table.key);
                                        }}
                                        aria-hidden="true"
                                    >
                                        {row.expanded ? "▼" : "▶"}
                                    </span>
                                    {row.table.kind === "view" || row.table.kind === "materialized_view" ? (
                                        <ViewIcon className="tree-icon" size={14} aria-label="view" />
                                    ) : (
                                        <TableIcon className="tree-icon" size={14} />
                                    )}
                                    <span className="name">{highlight(row.table.name, needle)}</span>
                                    {row.table.estimated_rows !== null && row.table.estimated_rows >= 0 && <span className="type row-estimate">{short_count(row.table.estimated_rows)}</span>}
                                    <button
                                        type="button"
                                        tabIndex={-1}
                                        className="btn btn-sm btn-ghost row-action"
                                        title={`Run ${props.dialect.select_star(reference(row.table), 100)} in a new tab (Q)`}
                                        onClick={(event) => {
                                            event.stopPropagation();
                                            props.on_query(row.table);
                                        }}
                                    >
                                        <PlayIcon size={12} /> Query
                                    </button>
                                </div>
                            );
                        }
                        return (
                            <div
                                key={row.id}
                                {...common}
                                className={`tree-row${active ? " active" : ""}`}
                                style={{ ...style, paddingLeft: 40 }}
                                title={`${row.column.name} ${row.column.type}${row.column.primary_key ? " · primary key" : ""}${row.column.references ? ` · references ${row.column.references}` : ""}${
                                    row.column.nullable === false ? " · not null" : ""
                                } — click to insert`}
                                onClick={() => props.on_insert(props.dialect.quote_identifier(row.column.name))}
                            >
                                {row.column.primary_key ? <KeyIcon className="tree-icon pk" size={13} aria-label="primary key" /> : <ColumnIcon className="tree-icon" size={13} />}
                                <span className="name">{highlight(row.column.name, needle)}</span>
                                {row.column.references && (
                                    <span className="key-badge" title={`references ${row.column.references}`}>
                                        FK
                                    </span>
                                )}
                                <span className="type">{row.column.type}</span>
                            </div>
                        );
                    })}
                </div>
            </div>
        );
    }

    return (
        <aside className="sidebar" aria-label="Schema browser">
            <div className="sidebar-head">
                <h2 title={props.title}>{props.title}</h2>
                {props.loading && model && <span className="spinner" aria-label="Refreshing" />}
                <button type="button" className="icon-btn" onClick={props.on_refresh} disabled={!props.has_source || props.loading} aria-label="Refresh schema" title="Refresh schema">
                    <RefreshIcon />
                </button>
            </div>
            {props.has_source && (
                <div className="sidebar-filter">
                    <input
                        className="input input-sm"
                        type="search"
                        placeholder={model ? `Filter ${model.table_count.toLocaleString("en-US")} tables and columns` : "Filter tables and columns"}
                        aria-label="Filter tables and columns"
                        value={filter}
                        onChange={(event) => set_filter(event.target.value)}
                        onKeyDown={(event) => {
                            if (event.key === "ArrowDown") {
                                event.preventDefault();
                                scroller.current?.focus();
                            }
                        }}
                    />
                </div>
            )}
            {body}
        </aside>
    );
}
