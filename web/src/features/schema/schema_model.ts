// The schema browser's model: tables grouped by schema, and the flat list of visible rows for a filter and
// expansion state. Built to stay instant at 5,000 tables: names are lower-cased once, filtering is one pass.
import type { SchemaResponse } from "../../api/types";

export interface SchemaColumn {
    name: string;
    type: string;
    primary_key?: boolean;
    /** "table(column)" this column refers to, from a foreign key. */
    references?: string;
    nullable?: boolean;
}

export interface SchemaTable {
    /** The key in the schema response ("film", "sales.orders"): stable identity for expansion state. */
    key: string;
    schema: string;
    name: string;
    columns: SchemaColumn[];
    /** "table", "view", "materialized_view", …; "table" when the server gives only the basic form. */
    kind: string;
    estimated_rows: number | null;
    comment?: string;
    search_name: string;
    search_columns: string[];
}

export interface SchemaGroup {
    name: string;
    tables: SchemaTable[];
}

export interface SchemaModel {
    groups: SchemaGroup[];
    table_count: number;
    default_schema: string;
}

function tables_of(response: SchemaResponse, default_schema: string): SchemaTable[] {
    if (response.relations) {
        // Partitions are listed under their parent table's name; showing each one would bury the tree.
        return response.relations
            .filter((relation) => !relation.is_partition)
            .map((relation) => {
                const primary = new Set(relation.primary_key ?? []);
                const references = new Map<string, string>();
                for (const key of relation.foreign_keys ?? []) {
                    key.columns.forEach((column, index) => {
                        const table = key.referenced_schema && key.referenced_schema !== default_schema ? `${key.referenced_schema}.${key.referenced_table}` : key.referenced_table;
                        references.set(column, `${table}(${key.referenced_columns[index] ?? ""})`);
                    });
                }
                const columns: SchemaColumn[] = relation.columns.map((column) => ({
                    name: column.name,
                    type: column.type,
                    primary_key: primary.has(column.name),
                    references: references.get(column.name),
                    nullable: column.nullable,
                }));
                return {
                    key: relation.schema === default_schema ? relation.name : `${relation.schema}.${relation.name}`,
                    schema: relation.schema,
                    name: relation.name,
                    columns,
                    kind: relation.kind,
                    estimated_rows: typeof relation.estimated_rows === "number" ? relation.estimated_rows : null,
                    comment: relation.comment,
                    search_name: relation.name.toLowerCase(),
                    search_columns: columns.map((column) => column.name.toLowerCase()),
                };
            });
    }
    return Object.entries(response.tables).map(([key, columns]) => {
        const dot = key.indexOf(".");
        const name = dot > 0 ? key.slice(dot + 1) : key;
        return {
            key,
            schema: dot > 0 ? key.slice(0, dot) : default_schema,
            name,
            columns: columns.map(([column_name, type]) => ({ name: column_name, type })),
            kind: "table",
            estimated_rows: null,
            search_name: name.toLowerCase(),
            search_columns: columns.map(([column_name]) => column_name.toLowerCase()),
        };
    });
}

export function build_schema_model(response: SchemaResponse, fallback_default_schema: string): SchemaModel {
    const default_schema = response.default_schema ?? fallback_default_schema;
    const by_schema = new Map<string, SchemaTable[]>();
    let table_count = 0;
    for (const table of tables_of(response, default_schema)) {
        const schema = table.schema;
        const list = by_schema.get(schema);
        if (list) {
            list.push(table);
        } else {
            by_schema.set(schema, [table]);
        }
        table_count += 1;
    }
    const groups = [...by_schema.entries()].map(([name, tables]) => ({
        name,
        tables: tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    }));
    // The default schema first: it is the one people query most.
    groups.sort((a, b) => (a.name === default_schema ? -1 : b.name === default_schema ? 1 : a.name.localeCompare(b.name)));
    return { groups, table_count, default_schema };
}

export type TreeRow =
    | { kind: "schema"; id: string; name: string; count: number; expanded: boolean }
    | { kind: "table"; id: string; table: SchemaTable; expanded: boolean; matched_columns: number }
    | { kind: "column"; id: string; table: SchemaTable; column: SchemaColumn };

/**
 * The rows to show. Without a filter, collapsed schemas hide their tables. With a filter, a table shows when its
 * name matches, or when a column matches (then only those columns show, already expanded).
 */
export function visible_rows(model: SchemaModel, filter: string, expanded: ReadonlySet<string>, collapsed_schemas: ReadonlySet<string>): TreeRow[] {
    const needle = filter.trim().toLowerCase();
    const rows: TreeRow[] = [];
    const single_schema = model.groups.length === 1;
    for (const group of model.groups) {
        const group_rows: TreeRow[] = [];
        const schema_open = needle !== "" || !collapsed_schemas.has(group.name);
        let count = 0;
        for (const table of group.tables) {
            if (needle === "") {
                count += 1;
                if (!schema_open) {
                    continue;
                }
                const open = expanded.has(table.key);
                group_rows.push({ kind: "table", id: "t:" + table.key, table, expanded: open, matched_columns: 0 });
                if (open) {
                    for (const column of table.columns) {
                        group_rows.push({ kind: "column", id: "c:" + table.key + "." + column.name, table, column });
                    }
                }
                continue;
            }
            const name_match = table.search_name.includes(needle);
            let matched: number[] | null = null;
            for (let index = 0; index < table.search_columns.length; index += 1) {
                if (table.search_columns[index].includes(needle)) {
                    (matched ??= []).push(index);
                }
            }
            if (!name_match && !matched) {
                continue;
            }
            count += 1;
            const open = expanded.has(table.key);
            const show_matches = !name_match && matched !== null;
            group_rows.push({ kind: "table", id: "t:" + table.key, table, expanded: open || show_matches, matched_columns: matched?.length ?? 0 });
            if (open) {
                for (const column of table.columns) {
                    group_rows.push({ kind: "column", id: "c:" + table.key + "." + column.name, table, column });
                }
            } else if (show_matches && matched) {
                for (const index of matched) {
                    const column = table.columns[index];
                    group_rows.push({ kind: "column", id: "c:" + table.key + "." + column.name, table, column });
                }
            }
        }
        if (count === 0 && needle !== "") {
            continue;
        }
        if (!single_schema) {
            rows.push({ kind: "schema", id: "s:" + group.name, name: group.name, count, expanded: schema_open });
        }
        rows.push(...group_rows);
    }
    return rows;
}
