// Postgres type metadata for rendering values and naming column types: read from the server's pg_type (names
// via format_type, categories, element, base and attribute types, domains looked through) and cached per
// database. Built-in types with fixed OIDs are known without asking, as a fast path; everything else — user
// enums, domains, composites, their arrays — is read once and then served from the cache.
//
// Domains need one more fact: Postgres describes a result column by its domain's *base* type (RowDescription
// sends getBaseType), so a column `release_year year` would be named "integer". For columns taken straight
// from a table, the same lookup also reads the column's declared type from pg_attribute, so `types` can say
// "year" while the value still renders as its base type.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "drivers/postgres/value_render.hpp"

extern "C" {
typedef struct pg_result PGresult;
}

namespace metahog::drivers::postgres {

// One row of the built-in fast path; the integration tests check every row against a live server.
struct builtin_type {
    oid type_oid;
    std::string_view name;
    char category;
    json_category rendering;
    oid element_oid;  // arrays only
    char delimiter;   // arrays: the element type's delimiter
};

// Where a result column comes from: a table's column (libpq's PQftable and PQftablecol), or {0, 0} for a
// computed value.
struct column_origin {
    oid table = 0;
    int column = 0;
    friend auto operator<=>(const column_origin&, const column_origin&) = default;
};

// What one result needs from the server before its columns can be named and rendered.
struct type_lookup {
    std::vector<oid> types;
    std::vector<column_origin> columns;
    bool empty() const noexcept { return types.empty() && columns.empty(); }
};

class type_catalog {
public:
    type_catalog() = default;
    type_catalog(const type_catalog&) = delete;
    type_catalog& operator=(const type_catalog&) = delete;

    // The built-in types this process knows without asking a server.
    static std::span<const builtin_type> builtin_types() noexcept;
    static std::shared_ptr<const type_info> builtin(oid type_oid);

    // A built-in or already loaded type; nullptr when it must be loaded first. Thread-safe.
    std::shared_ptr<const type_info> find(oid type_oid) const;
    // The OIDs among `oids` that find() does not know, without duplicates.
    std::vector<oid> missing(std::span<const oid> oids) const;
    // The types and table columns of one result (parallel spans) that are not known yet.
    type_lookup missing(std::span<const oid> type_oids, std::span<const column_origin> origins) const;

    // The one catalog query that loads missing types and every type they depend on (element, base and
    // attribute types, recursively), and the declared types of missing table columns. Its parameters are
    // lookup_parameters(missing): $1 type OIDs, $2 table OIDs, $3 column numbers. The caller sends it on
    // whatever connection and transaction it is using — the catalog itself does no I/O — and hands the result
    // to absorb().
    static std::string_view lookup_sql(int server_version);
    static std::string lookup_parameter(std::span<const oid> missing);
    static std::array<std::string, 3> lookup_parameters(const type_lookup& missing);
    // Adds the rows of a lookup_sql result to the cache. Types absent from the result (dropped meanwhile)
    // stay unknown; callers render them as text.
    result<void> absorb(const PGresult* lookup_result);

    // The domain a table column is declared with, when the result describes that column by another type (its
    // base); nullptr for computed columns, columns of a plain type and columns not looked up yet.
    std::shared_ptr<const type_info> declared_domain(column_origin origin, oid result_type) const;

    // Forgets the database's types (after a schema change: an altered composite, a recreated enum).
    void invalidate();

    // A type for an OID that is still unknown after a lookup: rendered as text, named by its number.
    static std::shared_ptr<const type_info> unknown(oid type_oid);

private:
    mutable std::mutex mutex_;
    std::unordered_map<oid, std::shared_ptr<const type_info>> types_;
    // Every table column looked up so far: its declared type when that is a domain, 0 otherwise.
    std::map<column_origin, oid> column_domains_;
};

}  // namespace metahog::drivers::postgres
