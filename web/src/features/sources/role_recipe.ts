// The read-only role recipe (README, "Read-only role recipe") written out for the database and schema the user is
// connecting to, so a warning or a refusal comes with the exact SQL that fixes it.

/** Quotes an SQL identifier the way Postgres's quote_ident does: bare only when it is a plain lower-case name. */
export function quote_identifier(name: string): string {
    return /^[a-z_][a-z0-9_$]*$/.test(name) && !reserved.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

// Reserved words most likely to be used as a name; they cannot stand bare.
const reserved = new Set(["all", "user", "select", "table", "grant", "to", "from", "order", "group", "default", "analyse", "analyze"]);

export interface RecipeTarget {
    role?: string;
    database?: string;
    schema?: string;
}

/** The recipe's SQL for this database and schema; placeholders where a name is not known yet. */
export function role_recipe_sql({ role, database, schema }: RecipeTarget): string {
    const r = quote_identifier(role?.trim() || "metahog_reader");
    const d = quote_identifier(database?.trim() || "mydb");
    const s = quote_identifier(schema?.trim() || "public");
    return [
        `CREATE ROLE ${r} LOGIN PASSWORD 'choose-a-password'`,
        `    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
        `ALTER ROLE ${r} SET default_transaction_read_only = on;`,
        `GRANT CONNECT ON DATABASE ${d} TO ${r};`,
        `-- connected to ${d}:`,
        `GRANT USAGE ON SCHEMA ${s} TO ${r};`,
        `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${r};`,
        `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${r};`,
    ].join("\n");
}
