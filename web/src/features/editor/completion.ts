// Schema-aware SQL autocompletion: tables and columns of the selected source (also after "prefix." and aliases),
// keywords of the dialect and its functions.
import { keywordCompletionSource, schemaCompletionSource, type SQLNamespace } from "@codemirror/lang-sql";
import { LanguageSupport } from "@codemirror/language";
import type { Completion, CompletionContext, CompletionResult, CompletionSource } from "@codemirror/autocomplete";
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

// After "name." only the tables or columns of that name make sense, never a keyword or a function.
function after_dot(context: CompletionContext): boolean {
    const word = context.matchBefore(/\w*/);
    const from = word ? word.from : context.pos;
    return from > 0 && context.state.sliceDoc(from - 1, from) === ".";
}

function not_after_dot(source: CompletionSource): CompletionSource {
    return (context) => (after_dot(context) ? null : source(context));
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
        return { from: word.from, options, validFor: /^\w*$/ };
    };
}

/** The SQL language support for a dialect and (optionally) a source's schema. */
export function sql_language(dialect: Dialect, schema: CompletionSchema | null): Extension {
    const language = dialect.codemirror.language;
    const sources: CompletionSource[] = [not_after_dot(keywordCompletionSource(dialect.codemirror, true)), not_after_dot(function_source(dialect))];
    if (schema) {
        sources.unshift(schemaCompletionSource({ dialect: dialect.codemirror, schema: schema.namespace, defaultSchema: schema.default_schema }));
    }
    return new LanguageSupport(language, sources.map((source) => language.data.of({ autocomplete: source })));
}
