// Schema-aware SQL autocompletion: tables and columns of the selected source (also after "prefix." and aliases),
// keywords of the dialect and its functions.
import { sql, type SQLNamespace } from "@codemirror/lang-sql";
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import type { Extension } from "@codemirror/state";
import type { SchemaResponse } from "../../api/types";
import type { Dialect } from "./dialect";

export interface CompletionSchema {
    namespace: SQLNamespace;
    default_schema: string;
}

/**
 * Turns the schema route's tables into CodeMirror's namespace. Keys without a dot belong to the source's default
 * schema and complete unqualified; "schema.table" keys complete after "schema."; the source's prefix completes the
 * default schema's tables too, since the server strips it ("SELECT * FROM pagila.film").
 */
export function build_completion_schema(schema: SchemaResponse, default_schema: string, prefix: string | null): CompletionSchema {
    const namespace: Record<string, Record<string, SQLNamespace>> = {};
    const add = (schema_name: string, table: string, columns: Array<[string, string]>) => {
        const tables = (namespace[schema_name] ??= {});
        tables[table] = {
            self: { label: table, type: "type", detail: schema_name === default_schema ? "table" : `${schema_name} table`, boost: 1 },
            children: columns.map(([name, type]): Completion => ({ label: name, type: "property", detail: type })),
        };
    };
    for (const [key, columns] of Object.entries(schema.tables)) {
        const dot = key.indexOf(".");
        if (dot > 0) {
            add(key.slice(0, dot), key.slice(dot + 1), columns);
        } else {
            add(default_schema, key, columns);
        }
    }
    const result: Record<string, SQLNamespace> = {};
    for (const [schema_name, tables] of Object.entries(namespace)) {
        result[schema_name] = { self: { label: schema_name, type: "namespace", detail: "schema" }, children: tables };
    }
    const default_tables = namespace[default_schema];
    if (prefix && default_tables && !(prefix in result)) {
        result[prefix] = { self: { label: prefix, type: "namespace", detail: "source prefix" }, children: default_tables };
    }
    return { namespace: result, default_schema };
}

function function_source(dialect: Dialect) {
    const options: Completion[] = dialect.functions.map((name) => ({
        label: name,
        type: "function",
        apply: `${name}(`,
        detail: "function",
        boost: -1,
    }));
    return (context: CompletionContext): CompletionResult | null => {
        const word = context.matchBefore(/\w+/);
        if (!word) {
            return null;
        }
        // After a dot the user is naming a column or table, never a function.
        if (word.from > 0 && context.state.sliceDoc(word.from - 1, word.from) === ".") {
            return null;
        }
        return { from: word.from, options, validFor: /^\w*$/ };
    };
}

/** The SQL language support for a dialect and (optionally) a source's schema. */
export function sql_language(dialect: Dialect, schema: CompletionSchema | null): Extension {
    const support = sql({
        dialect: dialect.codemirror,
        schema: schema?.namespace,
        defaultSchema: schema?.default_schema,
        upperCaseKeywords: true,
    });
    return [support, dialect.codemirror.language.data.of({ autocomplete: function_source(dialect) })];
}
