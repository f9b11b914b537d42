// Everything that differs between database engines, behind one object the editor, schema and grid consult.
import { PostgreSQL, StandardSQL, type SQLDialect } from "@codemirror/lang-sql";

export interface Dialect {
    id: string;
    /** The name people know the engine by, as shown in "pagila (Postgres)". */
    label: string;
    codemirror: SQLDialect;
    default_port: number;
    default_schema: string;
    /** Built-in functions offered by autocomplete beside keywords. */
    functions: readonly string[];
    quote_identifier(name: string): string;
    /** A table reference as it should be typed into SQL ("film", "sales.orders", "\"Odd Name\""). */
    table_reference(schema: string | null, table: string): string;
    select_star(reference: string, limit: number): string;
    is_numeric_type(type_name: string): boolean;
}

const postgres_functions = [
    "abs", "age", "array_agg", "array_length", "array_to_string", "avg", "bool_and", "bool_or", "btrim", "cardinality",
    "cast", "ceil", "char_length", "coalesce", "concat", "concat_ws", "count", "cume_dist", "current_date",
    "current_setting", "current_timestamp", "date_part", "date_trunc", "dense_rank", "every", "exp", "extract",
    "first_value", "floor", "format", "generate_series", "greatest", "initcap", "json_agg", "json_build_object",
    "json_object_agg", "jsonb_agg", "jsonb_array_elements", "jsonb_build_object", "jsonb_each", "jsonb_extract_path",
    "jsonb_object_keys", "jsonb_path_query", "jsonb_pretty", "lag", "last_value", "lead", "least", "left", "length",
    "ln", "log", "lower", "lpad", "ltrim", "make_date", "max", "md5", "min", "mod", "now", "nth_value", "ntile",
    "nullif", "percent_rank", "percentile_cont", "percentile_disc", "position", "power", "random", "rank",
    "regexp_match", "regexp_replace", "regexp_split_to_table", "repeat", "replace", "reverse", "right", "round",
    "row_number", "rpad", "rtrim", "sign", "split_part", "sqrt", "stddev", "string_agg", "strpos", "substr",
    "substring", "sum", "to_char", "to_date", "to_json", "to_jsonb", "to_number", "to_timestamp", "trim", "trunc",
    "unnest", "upper", "variance", "width_bucket",
] as const;

// Words Postgres reserves; as identifiers they must be quoted.
const postgres_reserved = new Set(
    ("all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create " +
        "current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc " +
        "distinct do else end except false fetch for foreign from grant group having in initially intersect into " +
        "lateral leading limit localtime localtimestamp not null offset on only or order placing primary references " +
        "returning select session_user some symmetric table then to trailing true union unique user using variadic " +
        "when where window with").split(" "),
);

const postgres_numeric = /^(smallint|integer|bigint|int2|int4|int8|numeric|decimal|real|double precision|float4|float8|money|oid|serial|bigserial)(\(|$|\[)?/i;

export const postgres_dialect: Dialect = {
    id: "postgres",
    label: "Postgres",
    codemirror: PostgreSQL,
    default_port: 5432,
    default_schema: "public",
    functions: postgres_functions,
    quote_identifier(name: string): string {
        if (/^[a-z_][a-z0-9_$]*$/.test(name) && !postgres_reserved.has(name)) {
            return name;
        }
        return '"' + name.replace(/"/g, '""') + '"';
    },
    table_reference(schema: string | null, table: string): string {
        const quoted = this.quote_identifier(table);
        return schema && schema !== this.default_schema ? `${this.quote_identifier(schema)}.${quoted}` : quoted;
    },
    select_star(reference: string, limit: number): string {
        return `SELECT * FROM ${reference} LIMIT ${limit}`;
    },
    is_numeric_type(type_name: string): boolean {
        return postgres_numeric.test(type_name.trim()) && !type_name.trim().endsWith("[]");
    },
};

// Used before a source is chosen, or for an engine the workbench does not know yet: plain standard SQL.
export const generic_dialect: Dialect = {
    ...postgres_dialect,
    id: "sql",
    label: "SQL",
    codemirror: StandardSQL,
    default_port: 0,
};

export function dialect_for(source_type: string | null | undefined): Dialect {
    switch ((source_type ?? "").toLowerCase()) {
        case "postgres":
        case "postgresql":
            return postgres_dialect;
        default:
            return source_type ? { ...generic_dialect, label: source_type } : generic_dialect;
    }
}
