// What a chart of a result plots: the chart builder's settings (type, X, Y columns, series column, stacking),
// their defaults and validation against a result, and the data shaping — one series per Y column, or a pivot of
// the rows into one series per value of a "series" column (rentals per month per store).
import type { QueryResult } from "../../api/types";
import { ExactNumber, type JsonValue } from "../../lib/exact_json";
import { format_cell } from "../../lib/format";
import type { Dialect } from "../editor/dialect";

export type ChartKind = "bar" | "line" | "area" | "scatter" | "pie";

export const chart_kinds: ReadonlyArray<{ kind: ChartKind; label: string }> = [
    { kind: "bar", label: "Bar" },
    { kind: "line", label: "Line" },
    { kind: "area", label: "Area" },
    { kind: "scatter", label: "Scatter" },
    { kind: "pie", label: "Pie" },
];

/** Columns are kept by name, so the settings of a tab still apply when its query runs again. */
export interface ChartSettings {
    kind: ChartKind;
    x: string;
    ys: string[];
    /** A column whose values split the rows into series; null for one series per Y column. */
    group: string | null;
    stacked: boolean;
}

export const max_chart_points = 5000;
export const max_series = 20;

/**
 * A value as a double, for plotting only: numbers, exact numbers (bigint, numeric) and numeric text; anything
 * else (NULL, words, NaN, infinities) is no point at all.
 */
export function plot_number(value: JsonValue | undefined): number | null {
    if (typeof value === "number") {
        return Number.isFinite(value) ? value : null;
    }
    if (value instanceof ExactNumber || (typeof value === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value))) {
        const number = Number(String(value).trim());
        return Number.isFinite(number) ? number : null;
    }
    return null;
}

export function numeric_columns(result: QueryResult, dialect: Dialect): number[] {
    return result.columns
        .map((_, index) => index)
        .filter((index) => {
            const type = result.types[index] ?? "";
            if (type) {
                return dialect.is_numeric_type(type);
            }
            const sample = result.rows.find((row) => row[index] !== null)?.[index];
            return typeof sample === "number" || sample instanceof ExactNumber;
        });
}

function is_time_type(type: string | undefined): boolean {
    return /date|time/i.test(type ?? "");
}

function text_of(value: JsonValue | undefined): string {
    return value === null || value === undefined ? "NULL" : format_cell(value);
}

function varies(result: QueryResult, column: number): boolean {
    const first = text_of(result.rows[0]?.[column]);
    return result.rows.slice(1, 500).some((row) => text_of(row[column]) !== first);
}

function distinct_count(result: QueryResult, column: number, limit: number): number {
    const seen = new Set<string>();
    for (const row of result.rows.slice(0, max_chart_points)) {
        seen.add(text_of(row[column]));
        if (seen.size > limit) {
            break;
        }
    }
    return seen.size;
}

const identifier = /(^|_)id$/i;

function rows_limit(result: QueryResult): number {
    return Math.min(result.rows.length, max_chart_points);
}

/**
 * The chart people expect first: a time column (or else the first text column) on X; the numeric columns that
 * are not identifiers on Y; and when a second text column repeats its values, as in "month, store, rentals",
 * that column splits the rows into series. Null when no numeric column exists.
 */
export function default_settings(result: QueryResult, dialect: Dialect): ChartSettings | null {
    const numeric = numeric_columns(result, dialect);
    if (numeric.length === 0) {
        return null;
    }
    const labels = result.columns.map((_, index) => index).filter((index) => !numeric.includes(index));
    const time = labels.find((index) => is_time_type(result.types[index]) && varies(result, index));
    const text = labels.find((index) => !is_time_type(result.types[index]));
    const x = time ?? text ?? labels[0] ?? numeric[0];
    const measures = numeric.filter((index) => index !== x);
    const named = measures.filter((index) => !identifier.test(result.columns[index]));
    const ys = (named.length > 0 ? named : measures).slice(0, 4);
    if (ys.length === 0) {
        return null;
    }
    // When X values repeat (month, store, rentals), a second label column with few values splits the rows into
    // series: one per store.
    const x_repeats = distinct_count(result, x, rows_limit(result)) < Math.min(result.rows.length, max_chart_points);
    const group = x_repeats
        ? labels.find((index) => index !== x && !is_time_type(result.types[index]) && distinct_count(result, index, max_series) <= max_series)
        : undefined;
    const kind: ChartKind = is_time_type(result.types[x]) ? "line" : "bar";
    return {
        kind,
        x: result.columns[x],
        ys: (group !== undefined ? ys.slice(0, 1) : ys).map((index) => result.columns[index]),
        group: group !== undefined ? result.columns[group] : null,
        stacked: false,
    };
}

/**
 * The saved settings of a tab made valid for this result: columns that no longer exist are replaced by the
 * defaults; null when nothing can be plotted.
 */
export function resolve_settings(result: QueryResult, dialect: Dialect, saved: ChartSettings | null | undefined): ChartSettings | null {
    const defaults = default_settings(result, dialect);
    if (!defaults) {
        return null;
    }
    if (!saved) {
        return defaults;
    }
    const numeric = new Set(numeric_columns(result, dialect).map((index) => result.columns[index]));
    const has = (name: string | null) => name !== null && result.columns.includes(name);
    const x = has(saved.x) ? saved.x : defaults.x;
    const ys = (saved.ys ?? []).filter((name) => numeric.has(name) && name !== x);
    const kind = chart_kinds.some((option) => option.kind === saved.kind) ? saved.kind : defaults.kind;
    return {
        kind,
        x,
        ys: ys.length > 0 ? ys : defaults.ys.filter((name) => name !== x).length > 0 ? defaults.ys.filter((name) => name !== x) : [...numeric].filter((name) => name !== x).slice(0, 1),
        group: has(saved.group) && saved.group !== x ? saved.group : null,
        stacked: saved.stacked === true,
    };
}

export interface ChartSeries {
    label: string;
    /** One value per label (bar, line, area, pie), or points for a scatter chart. */
    data: Array<number | null> | Array<{ x: number; y: number }>;
}

export interface ChartData {
    labels: string[];
    series: ChartSeries[];
    x_title: string;
    y_title: string;
    /** Rows beyond max_chart_points were left out. */
    clipped: boolean;
    /** Series beyond max_series were left out (the ones with the smallest totals). */
    hidden_series: number;
    /** Why nothing can be drawn with these settings, in words for the user. */
    problem: string | null;
}

/** Midnight timestamps read as dates: "2022-01-01" rather than "2022-01-01T00:00:00+00:00". */
function label_texts(values: ReadonlyArray<JsonValue | undefined>): string[] {
    const texts = values.map(text_of);
    const midnight = /^(\d{4}-\d{2}-\d{2})[T ]00:00:00(\.0+)?([+-]\d{2}(:?\d{2})?|Z)?$/;
    if (texts.length > 0 && texts.every((text) => text === "NULL" || midnight.test(text))) {
        return texts.map((text) => midnight.exec(text)?.[1] ?? text);
    }
    return texts;
}

function keep_largest(series: ChartSeries[]): { kept: ChartSeries[]; hidden: number } {
    if (series.length <= max_series) {
        return { kept: series, hidden: 0 };
    }
    const total = (entry: ChartSeries) =>
        (entry.data as Array<number | null | { x: number; y: number }>).reduce<number>((sum, value) => sum + Math.abs(value === null ? 0 : typeof value === "number" ? value : value.y), 0);
    const ranked = series.map((entry, index) => ({ entry, index, total: total(entry) })).sort((a, b) => b.total - a.total || a.index - b.index);
    const keep = new Set(ranked.slice(0, max_series).map((item) => item.index));
    return { kept: series.filter((_, index) => keep.has(index)), hidden: series.length - max_series };
}

/**
 * Shapes the rows for the chart. Without a series column each Y column is a series and each row a point. With
 * one, the rows are pivoted: X values (in the order the query returned them) become the labels, each value of
 * the series column (times each Y column) a series, and rows sharing an X and a series value are summed.
 * Plotting goes through doubles: fine for a picture, which is why the grid, not the chart, shows exact values.
 */
export function chart_data(result: QueryResult, settings: ChartSettings): ChartData {
    const rows = result.rows.slice(0, max_chart_points);
    const column = (name: string | null) => (name === null ? -1 : result.columns.indexOf(name));
    const x = column(settings.x);
    const ys = settings.ys.map(column).filter((index) => index >= 0);
    const group = settings.kind === "pie" ? -1 : column(settings.group);
    const clipped = result.rows.length > rows.length;
    const empty = (problem: string): ChartData => ({ labels: [], series: [], x_title: settings.x, y_title: "", clipped, hidden_series: 0, problem });
    if (x < 0 || ys.length === 0) {
        return empty("Choose an X column and at least one numeric Y column.");
    }
    const y_title = ys.length === 1 ? result.columns[ys[0]] : ys.map((index) => result.columns[index]).join(", ");

    if (settings.kind === "scatter") {
        if (!rows.some((row) => plot_number(row[x]) !== null)) {
            return empty(`A scatter chart needs a numeric X column; “${settings.x}” has no numbers. Choose another X column or chart type.`);
        }
        const buckets = new Map<string, Array<{ x: number; y: number }>>();
        const order: string[] = [];
        for (const row of rows) {
            const px = plot_number(row[x]);
            if (px === null) {
                continue;
            }
            for (const y of ys) {
                const py = plot_number(row[y]);
                if (py === null) {
                    continue;
                }
                const name = group >= 0 ? (ys.length > 1 ? `${text_of(row[group])} · ${result.columns[y]}` : text_of(row[group])) : result.columns[y];
                let points = buckets.get(name);
                if (!points) {
                    points = [];
                    buckets.set(name, points);
                    order.push(name);
                }
                points.push({ x: px, y: py });
            }
        }
        const { kept, hidden } = keep_largest(order.map((name) => ({ label: name, data: buckets.get(name)! })));
        return { labels: [], series: kept, x_title: settings.x, y_title, clipped, hidden_series: hidden, problem: kept.length === 0 ? "No row has numbers in both X and Y." : null };
    }

    if (settings.kind === "pie") {
        const y = ys[0];
        const labels = label_texts(rows.map((row) => row[x]));
        const data = rows.map((row) => plot_number(row[y]));
        if (data.some((value) => value !== null && value < 0)) {
            return empty(`A pie chart cannot show negative values, and “${result.columns[y]}” has some. Choose a bar chart instead.`);
        }
        return { labels, series: [{ label: result.columns[y], data }], x_title: settings.x, y_title: result.columns[y], clipped, hidden_series: 0, problem: null };
    }

    if (group < 0) {
        return {
            labels: label_texts(rows.map((row) => row[x])),
            series: ys.map((y) => ({ label: result.columns[y], data: rows.map((row) => plot_number(row[y])) })),
            x_title: settings.x,
            y_title,
            clipped,
            hidden_series: 0,
            problem: null,
        };
    }

    // Pivot: one label per distinct X (first-seen order keeps the query's ORDER BY), one series per group value.
    const label_index = new Map<string, number>();
    const label_values: JsonValue[] = [];
    const series_index = new Map<string, number>();
    const series: Array<{ label: string; data: Array<number | null> }> = [];
    for (const row of rows) {
        const key = text_of(row[x]);
        let at = label_index.get(key);
        if (at === undefined) {
            at = label_values.length;
            label_index.set(key, at);
            label_values.push(row[x]);
            series.forEach((entry) => entry.data.push(null));
        }
        for (const y of ys) {
            const name = ys.length > 1 ? `${text_of(row[group])} · ${result.columns[y]}` : text_of(row[group]);
            let which = series_index.get(name);
            if (which === undefined) {
                which = series.length;
                series_index.set(name, which);
                series.push({ label: name, data: new Array<number | null>(label_values.length).fill(null) });
            }
            const value = plot_number(row[y]);
            if (value !== null) {
                const data = series[which].data;
                data[at] = (data[at] ?? 0) + value;
            }
        }
    }
    const { kept, hidden } = keep_largest(series);
    return { labels: label_texts(label_values), series: kept, x_title: settings.x, y_title, clipped, hidden_series: hidden, problem: null };
}

/** Colours that stay apart from one another and readable on the theme's background. */
export const chart_palettes: Record<"light" | "dark", readonly string[]> = {
    light: ["#2563eb", "#e8590c", "#0f9d58", "#d6336c", "#7048e8", "#0c8599", "#b7791f", "#5c7cfa", "#c2255c", "#2b8a3e", "#868e96", "#1864ab"],
    dark: ["#6ea8ff", "#ffa94d", "#51cf66", "#f783ac", "#b197fc", "#3bc9db", "#ffd43b", "#91a7ff", "#ff8787", "#8ce99a", "#ced4da", "#74c0fc"],
};
