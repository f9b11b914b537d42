// The type cache: built-in fast path, the pg_type lookup query, and building type_info nodes from its rows.
#include "drivers/postgres/type_catalog.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <map>
#include <cstdint>
#include <optional>
#include <unordered_set>

namespace metahog::drivers::postgres {
namespace {

// Generated from `SELECT oid, format_type(oid, NULL), typcategory, ... FROM pg_type` on Postgres 15 for the
// types queries return most; tests/integration/pg_query_test.cpp compares every row with the live server.
constexpr builtin_type builtin_table[] = {
    {16, "boolean", 'B', json_category::boolean, 0, ','},
    {17, "bytea", 'U', json_category::text, 0, ','},
    {18, "\"char\"", 'Z', json_category::text, 0, ','},
    {19, "name", 'S', json_category::text, 0, ','},
    {20, "bigint", 'N', json_category::number, 0, ','},
    {21, "smallint", 'N', json_category::number, 0, ','},
    {22, "int2vector", 'A', json_category::array, 21, ','},
    {23, "integer", 'N', json_category::number, 0, ','},
    {24, "regproc", 'N', json_category::text, 0, ','},
    {25, "text", 'S', json_category::text, 0, ','},
    {26, "oid", 'N', json_category::text, 0, ','},
    {27, "tid", 'U', json_category::text, 0, ','},
    {28, "xid", 'U', json_category::text, 0, ','},
    {29, "cid", 'U', json_category::text, 0, ','},
    {30, "oidvector", 'A', json_category::array, 26, ','},
    {114, "json", 'U', json_category::json, 0, ','},
    {142, "xml", 'U', json_category::text, 0, ','},
    {143, "xml[]", 'A', json_category::array, 142, ','},
    {199, "json[]", 'A', json_category::array, 114, ','},
    {600, "point", 'G', json_category::text, 0, ','},
    {601, "lseg", 'G', json_category::text, 0, ','},
    {602, "path", 'G', json_category::text, 0, ','},
    {603, "box", 'G', json_category::text, 0, ','},
    {604, "polygon", 'G', json_category::text, 0, ','},
    {628, "line", 'G', json_category::text, 0, ','},
    {650, "cidr", 'I', json_category::text, 0, ','},
    {651, "cidr[]", 'A', json_category::array, 650, ','},
    {700, "real", 'N', json_category::number, 0, ','},
    {701, "double precision", 'N', json_category::number, 0, ','},
    {705, "unknown", 'X', json_category::text, 0, ','},
    {718, "circle", 'G', json_category::text, 0, ','},
    {774, "macaddr8", 'U', json_category::text, 0, ','},
    {775, "macaddr8[]", 'A', json_category::array, 774, ','},
    {790, "money", 'N', json_category::text, 0, ','},
    {791, "money[]", 'A', json_category::array, 790, ','},
    {829, "macaddr", 'U', json_category::text, 0, ','},
    {869, "inet", 'I', json_category::text, 0, ','},
    {1000, "boolean[]", 'A', json_category::array, 16, ','},
    {1001, "bytea[]", 'A', json_category::array, 17, ','},
    {1002, "\"char\"[]", 'A', json_category::array, 18, ','},
    {1003, "name[]", 'A', json_category::array, 19, ','},
    {1005, "smallint[]", 'A', json_category::array, 21, ','},
    {1006, "int2vector[]", 'A', json_category::array, 22, ','},
    {1007, "integer[]", 'A', json_category::array, 23, ','},
    {1009, "text[]", 'A', json_category::array, 25, ','},
    {1011, "xid[]", 'A', json_category::array, 28, ','},
    {1013, "oidvector[]", 'A', json_category::array, 30, ','},
    {1014, "character[]", 'A', json_category::array, 1042, ','},
    {1015, "character varying[]", 'A', json_category::array, 1043, ','},
    {1016, "bigint[]", 'A', json_category::array, 20, ','},
    {1017, "point[]", 'A', json_category::array, 600, ','},
    {1020, "box[]", 'A', json_category::array, 603, ';'},
    {1021, "real[]", 'A', json_category::array, 700, ','},
    {1022, "double precision[]", 'A', json_category::array, 701, ','},
    {1028, "oid[]", 'A', json_category::array, 26, ','},
    {1040, "macaddr[]", 'A', json_category::array, 829, ','},
    {1041, "inet[]", 'A', json_category::array, 869, ','},
    {1042, "character", 'S', json_category::text, 0, ','},
    {1043, "character varying", 'S', json_category::text, 0, ','},
    {1082, "date", 'D', json_category::date, 0, ','},
    {1083, "time without time zone", 'D', json_category::text, 0, ','},
    {1114, "timestamp without time zone", 'D', json_category::timestamp, 0, ','},
    {1115, "timestamp without time zone[]", 'A', json_category::array, 1114, ','},
    {1182, "date[]", 'A', json_category::array, 1082, ','},
    {1183, "time without time zone[]", 'A', json_category::array, 1083, ','},
    {1184, "timestamp with time zone", 'D', json_category::timestamptz, 0, ','},
    {1185, "timestamp with time zone[]", 'A', json_category::array, 1184, ','},
    {1186, "interval", 'T', json_category::text, 0, ','},
    {1187, "interval[]", 'A', json_category::array, 1186, ','},
    {1231, "numeric[]", 'A', json_category::array, 1700, ','},
    {1266, "time with time zone", 'D', json_category::text, 0, ','},
    {1270, "time with time zone[]", 'A', json_category::array, 1266, ','},
    {1560, "bit", 'V', json_category::text, 0, ','},
    {1561, "bit[]", 'A', json_category::array, 1560, ','},
    {1562, "bit varying", 'V', json_category::text, 0, ','},
    {1563, "bit varying[]", 'A', json_category::array, 1562, ','},
    {1700, "numeric", 'N', json_category::number, 0, ','},
    {1790, "refcursor", 'U', json_category::text, 0, ','},
    {2201, "refcursor[]", 'A', json_category::array, 1790, ','},
    {2205, "regclass", 'N', json_category::text, 0, ','},
    {2206, "regtype", 'N', json_category::text, 0, ','},
    {2210, "regclass[]", 'A', json_category::array, 2205, ','},
    {2211, "regtype[]", 'A', json_category::array, 2206, ','},
    {2249, "record", 'P', json_category::composite, 0, ','},
    {2278, "void", 'P', json_category::text, 0, ','},
    {2287, "record[]", 'P', json_category::array, 2249, ','},
    {2950, "uuid", 'U', json_category::text, 0, ','},
    {2951, "uuid[]", 'A', json_category::array, 2950, ','},
    {3220, "pg_lsn", 'U', json_category::text, 0, ','},
    {3221, "pg_lsn[]", 'A', json_category::array, 3220, ','},
    {3614, "tsvector", 'U', json_category::text, 0, ','},
    {3615, "tsquery", 'U', json_category::text, 0, ','},
    {3643, "tsvector[]", 'A', json_category::array, 3614, ','},
    {3645, "tsquery[]", 'A', json_category::array, 3615, ','},
    {3802, "jsonb", 'U', json_category::json, 0, ','},
    {3807, "jsonb[]", 'A', json_category::array, 3802, ','},
    {3904, "int4range", 'R', json_category::text, 0, ','},
    {3905, "int4range[]", 'A', json_category::array, 3904, ','},
    {3906, "numrange", 'R', json_category::text, 0, ','},
    {3907, "numrange[]", 'A', json_category::array, 3906, ','},
    {3908, "tsrange", 'R', json_category::text, 0, ','},
    {3909, "tsrange[]", 'A', json_category::array, 3908, ','},
    {3910, "tstzrange", 'R', json_category::text, 0, ','},
    {3911, "tstzrange[]", 'A', json_category::array, 3910, ','},
    {3912, "daterange", 'R', json_category::text, 0, ','},
    {3913, "daterange[]", 'A', json_category::array, 3912, ','},
    {3926, "int8range", 'R', json_category::text, 0, ','},
    {3927, "int8range[]", 'A', json_category::array, 3926, ','},
    {4072, "jsonpath", 'U', json_category::text, 0, ','},
    {4073, "jsonpath[]", 'A', json_category::array, 4072, ','},
    {4089, "regnamespace", 'N', json_category::text, 0, ','},
    {4096, "regrole", 'N', json_category::text, 0, ','},
    {5069, "xid8", 'U', json_category::text, 0, ','},
};

// The OIDs json.c's json_categorize_type() tests by number; stable since they are fixed in pg_type.dat.
json_category scalar_rendering(oid type_oid) {
    switch (type_oid) {
        case 16:
            return json_category::boolean;
        case 20:
        case 21:
        case 23:
        case 700:
        case 701:
        case 1700:
            return json_category::number;
        case 1082:
            return json_category::date;
        case 1114:
            return json_category::timestamp;
        case 1184:
            return json_category::timestamptz;
        case 114:
        case 3802:
            return json_category::json;
        default:
            return json_category::text;
    }
}

using type_map = std::unordered_map<oid, std::shared_ptr<const type_info>>;

const type_map& builtin_map() {
    static const type_map map = [] {
        type_map built;
        // Scalars first so that arrays find their elements.
        for (const bool arrays : {false, true}) {
            for (const builtin_type& entry : builtin_table) {
                if ((entry.rendering == json_category::array) != arrays) {
                    continue;
                }
                auto info = std::make_shared<type_info>();
                info->type_oid = entry.type_oid;
                info->name = std::string(entry.name);
                info->category = entry.category;
                info->rendering = entry.rendering;
                info->delimiter = entry.delimiter;
                if (arrays) {
                    const auto element = built.find(entry.element_oid);
                    info->element =
                        element != built.end() ? element->second : type_catalog::unknown(entry.element_oid);
                }
                built.emplace(entry.type_oid, std::move(info));
            }
        }
        return built;
    }();
    return map;
}

std::optional<oid> parse_oid(const char* text) {
    oid value = 0;
    const std::string_view view(text);
    const auto [end, failure] = std::from_chars(view.data(), view.data() + view.size(), value);
    if (failure != std::errc{} || end != view.data() + view.size()) {
        return std::nullopt;
    }
    return value;
}

// One pg_type row of the lookup result, before its references are resolved.
struct type_row {
    oid type_oid = 0;
    std::string name;
    char category = 'U';
    char kind = 'b';  // typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange
    oid element_oid = 0;
    oid base_oid = 0;
    char delimiter = ',';
    bool is_array = false;
    std::vector<std::pair<std::string, oid>> attributes;
};

// Builds type_info nodes from rows, resolving references through the rows, the existing cache and the
// built-ins, memoised so shared dependencies are built once.
class node_builder {
public:
    node_builder(const std::unordered_map<oid, type_row>& rows, const type_map& cached)
        : rows_(rows), cached_(cached) {}

    std::shared_ptr<const type_info> build(oid type_oid, int depth = 0) {
        if (const auto done = built_.find(type_oid); done != built_.end()) {
            return done->second;
        }
        const auto row_entry = rows_.find(type_oid);
        if (row_entry == rows_.end() || depth > 64) {
            if (auto known = type_catalog::builtin(type_oid)) {
                return known;
            }
            if (const auto cached = cached_.find(type_oid); cached != cached_.end()) {
                return cached->second;
            }
            return type_catalog::unknown(type_oid);
        }
        const type_row& row = row_entry->second;
        auto info = std::make_shared<type_info>();
        info->type_oid = row.type_oid;
        info->name = row.name;
        info->category = row.category;
        if (row.kind == 'd' && row.base_oid != 0) {
            // to_json looks through domains: render as the base type, keep the domain's own name.
            const auto base = build(row.base_oid, depth + 1);
            info->rendering = base->rendering;
            info->element = base->element;
            info->delimiter = base->delimiter;
            info->attributes = base->attributes;
        } else if (row.is_array && row.element_oid != 0) {
            info->rendering = json_category::array;
            info->element = build(row.element_oid, depth + 1);
            const auto element_row = rows_.find(row.element_oid);
            info->delimiter = element_row != rows_.end() ? element_row->second.delimiter : ',';
        } else if (row.kind == 'c' || type_oid == 2249) {
            info->rendering = json_category::composite;
            for (const auto& [name, attribute_oid] : row.attributes) {
                info->attributes.push_back(type_attribute{name, build(attribute_oid, depth + 1)});
            }
        } else {
            info->rendering = scalar_rendering(type_oid);
        }
        std::shared_ptr<const type_info> node = std::move(info);
        built_.emplace(type_oid, node);
        return node;
    }

    const type_map& built() const noexcept { return built_; }

private:
    const std::unordered_map<oid, type_row>& rows_;
    const type_map& cached_;
    type_map built_;
};

}  // namespace

std::span<const builtin_type> type_catalog::builtin_types() noexcept {
    return builtin_table;
}

std::shared_ptr<const type_info> type_catalog::builtin(oid type_oid) {
    const type_map& map = builtin_map();
    const auto found = map.find(type_oid);
    return found != map.end() ? found->second : nullptr;
}

std::shared_ptr<const type_info> type_catalog::unknown(oid type_oid) {
    auto info = std::make_shared<type_info>();
    info->type_oid = type_oid;
    info->name = std::to_string(type_oid);
    return info;
}

std::shared_ptr<const type_info> type_catalog::find(oid type_oid) const {
    if (auto known = builtin(type_oid)) {
        return known;
    }
    std::lock_guard lock(mutex_);
    const auto found = types_.find(type_oid);
    return found != types_.end() ? found->second : nullptr;
}

type_lookup type_catalog::missing(std::span<const oid> type_oids, std::span<const column_origin> origins) const {
    type_lookup needed{missing(type_oids), {}};
    std::lock_guard lock(mutex_);
    for (const column_origin& origin : origins) {
        if (origin.table == 0 || origin.column <= 0 || column_domains_.contains(origin) ||
            std::find(needed.columns.begin(), needed.columns.end(), origin) != needed.columns.end()) {
            continue;
        }
        needed.columns.push_back(origin);
    }
    return needed;
}

std::vector<oid> type_catalog::missing(std::span<const oid> oids) const {
    std::vector<oid> unknown_oids;
    std::lock_guard lock(mutex_);
    for (const oid type_oid : oids) {
        if (builtin(type_oid) || types_.contains(type_oid) ||
            std::find(unknown_oids.begin(), unknown_oids.end(), type_oid) != unknown_oids.end()) {
            continue;
        }
        unknown_oids.push_back(type_oid);
    }
    return unknown_oids;
}

namespace {

// Two kinds of rows: one per type (the origin columns NULL), and one per asked table column (the LEFT JOINs
// answer every column, 0 when it is not a domain or no longer exists, so it is never asked again).
// {is_array} tells true arrays from types that merely have an element type (point, name).
constexpr std::string_view lookup_template = R"sql(
WITH RECURSIVE origin(rel, num, domain) AS (
    SELECT c.rel, c.num, CASE WHEN d.typtype = 'd' THEN d.oid ELSE 0::pg_catalog.oid END
    FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.oid[]),
                    pg_catalog.unnest($3::pg_catalog.int2[])) AS c(rel, num)
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.rel AND a.attnum = c.num AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_type d ON d.oid = a.atttypid
), wanted(oid) AS (
    SELECT pg_catalog.unnest($1::pg_catalog.oid[])
  UNION
    SELECT domain FROM origin WHERE domain <> 0::pg_catalog.oid
  UNION
    SELECT dependency.oid
    FROM wanted
    JOIN pg_catalog.pg_type t ON t.oid = wanted.oid
    CROSS JOIN LATERAL (
        SELECT t.typelem WHERE t.typelem <> 0
        UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = t.typrelid AND t.typrelid <> 0 AND a.attnum > 0 AND NOT a.attisdropped
    ) AS dependency(oid)
)
SELECT t.oid, pg_catalog.format_type(t.oid, NULL), t.typcategory, t.typtype, t.typelem, t.typbasetype,
       t.typdelim, {is_array},
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(a.attname, a.atttypid::pg_catalog.int8) ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = t.typrelid AND t.typrelid <> 0 AND a.attnum > 0 AND NOT a.attisdropped),
       NULL::pg_catalog.oid, NULL::pg_catalog.int2
FROM pg_catalog.pg_type t
WHERE t.oid IN (SELECT oid FROM wanted)
UNION ALL
SELECT domain, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rel, num FROM origin)sql";

std::string lookup_sql_with(std::string_view is_array) {
    std::string sql(lookup_template);
    constexpr std::string_view marker = "{is_array}";
    sql.replace(sql.find(marker), marker.size(), is_array);
    return sql;
}

}  // namespace

std::string_view type_catalog::lookup_sql(int server_version) {
    // typsubscript (Postgres 14+) is the exact test; before it, get_element_type() went by typlen = -1.
    static const std::string with_subscript =
        lookup_sql_with("t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc");
    static const std::string with_typlen = lookup_sql_with("t.typelem <> 0 AND t.typlen = -1");
    return server_version >= 140000 || server_version == 0 ? with_subscript : with_typlen;
}

std::array<std::string, 3> type_catalog::lookup_parameters(const type_lookup& missing_items) {
    std::vector<oid> tables;
    std::vector<oid> columns;
    for (const column_origin& origin : missing_items.columns) {
        tables.push_back(origin.table);
        columns.push_back(static_cast<oid>(origin.column));
    }
    return {lookup_parameter(missing_items.types), lookup_parameter(tables), lookup_parameter(columns)};
}

std::string type_catalog::lookup_parameter(std::span<const oid> missing_oids) {
    std::string parameter = "{";
    for (std::size_t index = 0; index < missing_oids.size(); ++index) {
        if (index > 0) {
            parameter.push_back(',');
        }
        parameter.append(std::to_string(missing_oids[index]));
    }
    parameter.push_back('}');
    return parameter;
}

result<void> type_catalog::absorb(const PGresult* lookup_result) {
    if (lookup_result == nullptr || PQresultStatus(lookup_result) != PGRES_TUPLES_OK ||
        PQnfields(lookup_result) != 11) {
        return make_error(error_code::internal, "the type catalog lookup returned an unexpected result");
    }
    std::unordered_map<oid, type_row> rows;
    std::map<column_origin, oid> origins;
    const int count = PQntuples(lookup_result);
    for (int row_index = 0; row_index < count; ++row_index) {
        const auto value = [&](int column) { return PQgetvalue(lookup_result, row_index, column); };
        if (!PQgetisnull(lookup_result, row_index, 9)) {
            // A table column's row: its declared domain (or 0).
            const auto table = parse_oid(value(9));
            const auto column = parse_oid(value(10));
            const auto domain = parse_oid(value(0));
            if (!table || !column || !domain) {
                return make_error(error_code::internal, "the type catalog lookup returned a malformed column");
            }
            origins.insert_or_assign(column_origin{*table, static_cast<int>(*column)}, *domain);
            continue;
        }
        type_row row;
        const auto type_oid = parse_oid(value(0));
        const auto element_oid = parse_oid(value(4));
        const auto base_oid = parse_oid(value(5));
        if (!type_oid || !element_oid || !base_oid) {
            return make_error(error_code::internal, "the type catalog lookup returned a malformed OID");
        }
        row.type_oid = *type_oid;
        row.name = value(1);
        row.category = value(2)[0];
        row.kind = value(3)[0];
        row.element_oid = *element_oid;
        row.base_oid = *base_oid;
        row.delimiter = value(6)[0] != '\0' ? value(6)[0] : ',';
        row.is_array = value(7)[0] == 't';
        if (!PQgetisnull(lookup_result, row_index, 8)) {
            boost::system::error_code parse_error;
            const boost::json::value attributes = boost::json::parse(value(8), parse_error);
            if (parse_error || !attributes.is_array()) {
                return make_error(error_code::internal,
                                  "the type catalog lookup returned malformed attributes");
            }
            for (const auto& attribute : attributes.get_array()) {
                const auto* pair = attribute.if_array();
                if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() ||
                    !(*pair)[1].is_number()) {
                    return make_error(error_code::internal,
                                      "the type catalog lookup returned malformed attributes");
                }
                row.attributes.emplace_back(std::string((*pair)[0].get_string()),
                                            static_cast<oid>((*pair)[1].to_number<std::int64_t>()));
            }
        }
        rows.emplace(row.type_oid, std::move(row));
    }

    std::lock_guard lock(mutex_);
    node_builder builder(rows, types_);
    for (const auto& [type_oid, row] : rows) {
        (void)builder.build(type_oid);
    }
    for (const auto& [type_oid, node] : builder.built()) {
        types_.insert_or_assign(type_oid, node);
    }
    for (const auto& [origin, domain] : origins) {
        column_domains_.insert_or_assign(origin, domain);
    }
    return {};
}

std::shared_ptr<const type_info> type_catalog::declared_domain(column_origin origin, oid result_type) const {
    if (origin.table == 0) {
        return nullptr;
    }
    std::lock_guard lock(mutex_);
    const auto declared = column_domains_.find(origin);
    if (declared == column_domains_.end() || declared->second == 0 || declared->second == result_type) {
        return nullptr;
    }
    const auto domain = types_.find(declared->second);
    return domain != types_.end() ? domain->second : nullptr;
}

void type_catalog::invalidate() {
    std::lock_guard lock(mutex_);
    types_.clear();
    column_domains_.clear();
}

}  // namespace metahog::drivers::postgres
