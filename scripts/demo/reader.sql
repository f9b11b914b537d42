-- The read-only login role MetaHog recommends for a source, created once per instance and granted on the
-- current database: it can connect and SELECT, nothing more, and its sessions default to read-only.
-- psql variable reader_password_file: a file holding the password, so the password is in no argument list.

SET client_min_messages = warning;
-- A failing statement is written to the server log with its text, and these carry the password: log none.
SET log_min_error_statement = panic;

\set reader_password `cat :'reader_password_file'`
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'metahog_reader') AS create_reader \gset
\if :create_reader
CREATE ROLE metahog_reader;
\endif
ALTER ROLE metahog_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'reader_password';
\unset reader_password
-- Defence in depth: MetaHog opens READ ONLY transactions itself; the role's default agrees.
ALTER ROLE metahog_reader SET default_transaction_read_only = on;
COMMENT ON ROLE metahog_reader IS 'MetaHog source role: connect and read only.';

SELECT current_database() AS database_name \gset
GRANT CONNECT ON DATABASE :"database_name" TO metahog_reader;
GRANT USAGE ON SCHEMA public TO metahog_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO metahog_reader;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO metahog_reader;
-- Tables the owner creates later are readable too.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO metahog_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON SEQUENCES TO metahog_reader;
