// The virtualised result grid: only visible rows and columns are in the DOM, so 100,000 rows scroll smoothly.
// Types in headers, NULL apart from empty text, numbers right-aligned and exact, sort by header, resizable
// columns, a detail panel for long values, copy cell and row from the keyboard.
import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { QueryResult } from "../../api/types";
import { CloseIcon, CopyIcon } from "../../components/icons";
import { use_toast } from "../../components/toast";
import { copy_text } from "../../lib/download";
import { stringify_exact_json, type JsonValue } from "../../lib/exact_json";
import { cell_kind, format_cell, format_count, preview_cell, pretty_cell, row_to_tsv } from "../../lib/format";
import type { Dialect } from "../editor/dialect";
import { initial_widths, view_order, type SortState } from "./grid_model";

interface ResultGridProps {
    result: QueryResult;
    dialect: Dialect;
    filter: string;
}

const row_height = 26;
const header_height = 42;

interface Selection {
    row: number;
    column: number;
}

export function ResultGrid({ result, dialect, filter }: ResultGridProps) {
    const toast = use_toast();
    const scroller = useRef<HTMLDivElement>(null);
    const [sort, set_sort] = useState<SortState>(null);
    const [widths, set_widths] = useState<number[]>(() => initial_widths(result.columns, result.types, result.rows));
    const [selection, set_selection] = useState<Selection | null>(null);
    const [detail_open, set_detail_open] = useState(false);
    const grid_id = useId().replace(/:/g, "");
    const cell_id = (row: number, column: number) => `${grid_id}-r${row}-c${column}`;

    useEffect(() => {
        set_widths(initial_widths(result.columns, result.types, result.rows));
        set_sort(null);
        set_selection(null);
        set_detail_open(false);
        if (scroller.current) {
            scroller.current.scrollTop = 0;
            scroller.current.scrollLeft = 0;
        }
    }, [result]);

    const order = useMemo(() => view_order(result.rows, filter, sort), [result.rows, filter, sort]);
    const numeric = useMemo(
        () =>
            result.columns.map((_, index) => {
                const type = result.types[index] ?? "";
                if (type) {
                    return dialect.is_numeric_type(type);
                }
                const sample = result.rows.find((row) => row[index] !== null)?.[index];
                return sample !== undefined && cell_kind(sample) === "number";
            }),
        [result, dialect],
    );

    const gutter_width = Math.max(44, String(order.length).length * 7.5 + 18);
    const total_width = gutter_width + widths.reduce((sum, width) => sum + width, 0);

    const rows_virtual = useVirtualizer({
        count: order.length,
        getScrollElement: () => scroller.current,
        estimateSize: () => row_height,
        overscan: 12,
        // The sticky header occupies the first pixels of the scrolled content; rows start below it.
        paddingStart: header_height,
        scrollPaddingStart: header_height,
    });
    const columns_virtual = useVirtualizer({
        horizontal: true,
        count: result.columns.length,
        getScrollElement: () => scroller.current,
        estimateSize: (index) => widths[index] ?? 120,
        overscan: 4,
        scrollPaddingStart: gutter_width,
        paddingStart: gutter_width,
    });

    useEffect(() => {
        columns_virtual.measure();
    }, [widths, gutter_width, columns_virtual]);

    const visible_columns = columns_virtual.getVirtualItems();
    const first_start = visible_columns.length > 0 ? visible_columns[0].start : gutter_width;

    const value_at = useCallback((view_row: number, column: number): JsonValue | undefined => result.rows[order[view_row]]?.[column], [result.rows, order]);

    const toggle_sort = (column: number) => {
        set_sort((current) => {
            if (!current || current.column !== column) {
                return { column, direction: "asc" };
            }
            return current.direction === "asc" ? { column, direction: "desc" } : null;
        });
    };

    const start_resize = (event: ReactMouseEvent, column: number) => {
        event.preventDefault();
        event.stopPropagation();
        const start_x = event.clientX;
        const start_width = widths[column];
        const on_move = (move: MouseEvent) => {
            const width = Math.max(48, Math.min(1200, start_width + move.clientX - start_x));
            set_widths((current) => current.map((value, index) => (index === column ? width : value)));
        };
        const on_up = () => {
            window.removeEventListener("mousemove", on_move);
            window.removeEventListener("mouseup", on_up);
        };
        window.addEventListener("mousemove", on_move);
        window.addEventListener("mouseup", on_up);
    };

    const copy = async (text: string, what: string) => {
        toast.show((await copy_text(text)) ? `${what} copied` : `Could not copy the ${what.toLowerCase()}`);
    };

    const copy_cell = (target: Selection | null) => {
        if (!target) {
            return;
        }
        const value = value_at(target.row, target.column);
        if (value !== undefined) {
            void copy(value === null ? "" : format_cell(value), "Value");
        }
    };

    const copy_row = (target: Selection | null, as_json = false) => {
        if (!target) {
            return;
        }
        const row = result.rows[order[target.row]];
        if (!row) {
            return;
        }
        if (as_json) {
            const object: Record<string, JsonValue> = {};
            result.columns.forEach((name, index) => {
                object[name in object ? `${name}_${index + 1}` : name] = row[index];
            });
            void copy(stringify_exact_json(object), "Row");
        } else {
            void copy(row_to_tsv(row), "Row");
        }
    };

    const select = (target: Selection) => {
        set_selection(target);
        rows_virtual.scrollToIndex(target.row);
        columns_virtual.scrollToIndex(target.column);
    };

    const on_key_down = (event: KeyboardEvent<HTMLDivElement>) => {
        const current = selection ?? { row: 0, column: 0 };
        const last_row = order.length - 1;
        const last_column = result.columns.length - 1;
        const mod = event.ctrlKey || event.metaKey;
        if (mod && event.key.toLowerCase() === "c") {
            if (event.shiftKey) {
                copy_row(current);
            } else {
                copy_cell(current);
            }
            event.preventDefault();
            return;
        }
        const moves: Record<string, () => Selection> = {
            ArrowDown: () => ({ ...current, row: Math.min(last_row, current.row + 1) }),
            ArrowUp: () => ({ ...current, row: Math.max(0, current.row - 1) }),
            ArrowRight: () => ({ ...current, column: Math.min(last_column, current.column + 1) }),
            ArrowLeft: () => ({ ...current, column: Math.max(0, current.column - 1) }),
            PageDown: () => ({ ...current, row: Math.min(last_row, current.row + 20) }),
            PageUp: () => ({ ...current, row: Math.max(0, current.row - 20) }),
            Home: () => (mod ? { row: 0, column: 0 } : { ...current, column: 0 }),
            End: () => (mod ? { row: last_row, column: last_column } : { ...current, column: last_column }),
        };
        if (event.key === "s" && !mod && selection) {
            toggle_sort(selection.column);
            event.preventDefault();
            return;
        }
        if (event.key === "Enter") {
            set_selection(current);
            set_detail_open(true);
            event.preventDefault();
            return;
        }
        if (event.key === "Escape" && detail_open) {
            set_detail_open(false);
            event.preventDefault();
            return;
        }
        const move = moves[event.key];
        if (!move || order.length === 0) {
            return;
        }
        event.preventDefault();
        select(selection ? move() : current);
    };

    const detail_value = selection && detail_open ? value_at(selection.row, selection.column) : undefined;

    return (
        <div className="grid-wrap">
            <div style={{ flex: 1, minHeight: 0, display: "flex" }}>
                <div
                    ref={scroller}
                    className="grid"
                    role="grid"
                    aria-label="Query results"
                    aria-rowcount={order.length + 1}
                    aria-colcount={result.columns.length}
                    tabIndex={0}
                    aria-activedescendant={selection && order.length > 0 ? cell_id(selection.row, selection.column) : undefined}
                    onKeyDown={on_key_down}
                    onFocus={(event) => {
                        // Keyboard users land on the first cell; a click has already chosen its own.
                        if (event.target === event.currentTarget && order.length > 0) {
                            set_selection((current) => current ?? { row: 0, column: 0 });
                        }
                    }}
                    data-testid="result-grid"
                >
                    <div style={{ width: total_width, minWidth: "100%", height: rows_virtual.getTotalSize(), position: "relative" }}>
                        <div className="grid-header" role="row" aria-rowindex={1} style={{ width: total_width }}>
                            <div className="grid-gutter" style={{ width: gutter_width }} aria-hidden="true">
                                #
                            </div>
                            <div style={{ width: first_start - gutter_width, flex: "none" }} />
                            {visible_columns.map((column) => {
                                const index = column.index;
                                const sorted = sort?.column === index ? sort.direction : null;
                                return (
                                    <div
                                        key={index}
                                        role="columnheader"
                                        aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none"}
                                        className={`grid-head-cell${numeric[index] ? " num" : ""}`}
                                        style={{ width: widths[index] }}
                                        title={`${result.columns[index]} (${result.types[index] || "unknown type"}) — click to sort`}
                                        onClick={() => toggle_sort(index)}
                                        onKeyDown={(event) => {
                                            if (event.key === "Enter" || event.key === " ") {
                                                event.preventDefault();
                                                toggle_sort(index);
                                            }
                                        }}
                                        aria-colindex={index + 1}
                                    >
                                        <span className="col-name">
                                            {result.columns[index]}
                                            {sorted && <span className="sort">{sorted === "asc" ? "▲" : "▼"}</span>}
                                        </span>
                                        <span className="col-type">{result.types[index] || "—"}</span>
                                        <span className="col-resizer" onMouseDown={(event) => start_resize(event, index)} onClick={(event) => event.stopPropagation()} />
                                    </div>
                                );
                            })}
                        </div>
                        <div>
                            {rows_virtual.getVirtualItems().map((item) => {
                                const row = result.rows[order[item.index]];
                                return (
                                    <div key={item.key} className="grid-row" role="row" aria-rowindex={item.index + 2} style={{ transform: `translateY(${item.start}px)`, width: total_width }}>
                                        <div className="grid-gutter" style={{ width: gutter_width }} aria-hidden="true">
                                            {item.index + 1}
                                        </div>
                                        <div style={{ width: first_start - gutter_width, flex: "none" }} />
                                        {visible_columns.map((column) => {
                                            const value = row[column.index];
                                            const kind = cell_kind(value);
                                            const selected = selection?.row === item.index && selection.column === column.index;
                                            const classes = ["grid-cell"];
                                            if (kind === "null") {
                                                classes.push("null");
                                            } else if (kind === "number") {
                                                classes.push("num");
                                            } else if (kind === "boolean") {
                                                classes.push("bool");
                                            } else if (kind === "json") {
                                                classes.push("json");
                                            }
                                            if (selected) {
                                                classes.push("selected");
                                            }
                                            return (
                                                <div
                                                    key={column.index}
                                                    role="gridcell"
                                                    id={cell_id(item.index, column.index)}
                                                    aria-colindex={column.index + 1}
                                                    aria-selected={selected}
                                                    className={classes.join(" ")}
                                                    style={{ width: widths[column.index] }}
                                                    onMouseDown={() => set_selection({ row: item.index, column: column.index })}
                                                    onDoubleClick={() => {
                                                        set_selection({ row: item.index, column: column.index });
                                                        set_detail_open(true);
                                                    }}
                                                >
                                                    {kind === "null" ? "NULL" : preview_cell(value)}
                                                </div>
                                            );
                                        })}
                                    </div>
                                );
                            })}
                        </div>
                    </div>
                </div>
                {detail_open && selection && detail_value !== undefined && (
                    <aside className="cell-detail" aria-label="Value detail">
                        <div className="cell-detail-head">
                            <span className="title">
                                {result.columns[selection.column]} <span className="faint">· row {selection.row + 1} · {result.types[selection.column]}</span>
                            </span>
                            <button type="button" className="icon-btn" title="Copy value" aria-label="Copy value" onClick={() => copy_cell(selection)}>
                                <CopyIcon />
                            </button>
                            <button type="button" className="icon-btn" title="Close (Esc)" aria-label="Close value detail" onClick={() => {
                                set_detail_open(false);
                                scroller.current?.focus();
                            }}>
                                <CloseIcon />
                            </button>
                        </div>
                        <pre className={detail_value === null ? "faint" : undefined}>{detail_value === null ? "NULL" : detail_value === "" ? "(empty string)" : pretty_cell(detail_value)}</pre>
                        <div className="grid-foot">
                            <button type="button" className="btn btn-sm" onClick={() => copy_row(selection)}>
                                Copy row
                            </button>
                            <button type="button" className="btn btn-sm" onClick={() => copy_row(selection, true)}>
                                Copy row as JSON
                            </button>
                        </div>
                    </aside>
                )}
            </div>
            <div className="grid-foot">
                <span>{filter.trim() ? `${order.length.toLocaleString("en-US")} of ${format_count(result.rows.length, "row")} match` : format_count(result.rows.length, "row")}</span>
                {selection && (
                    <span className="faint">
                        Row {selection.row + 1}, {result.columns[selection.column]}
                    </span>
                )}
                <span className="spacer" />
                {selection ? (
                    <>
                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => copy_cell(selection)} title="Ctrl+C">
                            <CopyIcon size={13} /> Copy value
                        </button>
                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => copy_row(selection)} title="Ctrl+Shift+C">
                            Copy row
                        </button>
                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => set_detail_open(true)} title="Enter">
                            Show value
                        </button>
                    </>
                ) : (
                    <span className="faint">Click a cell or use the arrow keys · Enter or double-click expands · click a header (or press S) to sort</span>
                )}
            </div>
        </div>
    );
}
