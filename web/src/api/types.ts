// Shapes of the MetaHog HTTP API as the workbench uses them (see shared/docs/api.md and docs/api.md).
import type { JsonValue } from "../lib/exact_json";

export type TeamId = number | string;

export interface Team {
    id: TeamId;
    name: string;
    role: string;
}

export interface Session {
    user: { id: number | string; email: string };
    teams: Team[];
    default_team_id: TeamId;
    csrf_token: string;
}

export interface JobInputs {
    host?: string;
    port?: number;
    database?: string;
    user?: string;
    password?: string;
    schema?: string;
    sslmode?: string;
    connection_string?: string;
}

/** Something the source's database role can do beyond reading (write_grant, owns_objects, create_privilege,
 * dangerous_function), found when the connection is checked. */
export interface RoleWarning {
    code: string;
    message: string;
    examples: string[];
}

export interface Source {
    id: string;
    source_type: string;
    prefix: string | null;
    query_only?: boolean;
    status?: string;
    created_at?: string;
    updated_at?: string;
    job_inputs?: JobInputs;
    has_password?: boolean;
}

export interface SchemaColumnDetail {
    name: string;
    type: string;
    nullable?: boolean;
    default?: string | null;
    comment?: string;
}

export interface SchemaForeignKey {
    name: string;
    columns: string[];
    referenced_schema: string;
    referenced_table: string;
    referenced_columns: string[];
}

/** The schema route's richer form (`?detail=1`): views, keys and row estimates beside the contract's tables. */
export interface SchemaRelation {
    schema: string;
    name: string;
    kind: "table" | "view" | "materialized_view" | "partitioned_table" | "foreign_table" | string;
    is_partition?: boolean;
    columns: SchemaColumnDetail[];
    primary_key?: string[];
    foreign_keys?: SchemaForeignKey[];
    estimated_rows?: number | null;
    comment?: string;
}

export interface SchemaResponse {
    tables: Record<string, Array<[string, string]>>;
    default_schema?: string;
    relations?: SchemaRelation[];
}

export interface QueryResult {
    columns: string[];
    types: string[];
    rows: JsonValue[][];
    row_count: number;
    truncated: boolean;
    execution_time_ms: number;
}

export type ExportFormat = "csv" | "ndjson";
