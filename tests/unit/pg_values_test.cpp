// Unit tests of Postgres value rendering: each expectation is what Postgres 15's to_json() returns for the
// same value (checked by hand against a server; the pg integration tests compare against a live to_json()).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "drivers/postgres/type_catalog.hpp"
#include "drivers/postgres/value_render.hpp"

namespace metahog::drivers::postgres {
namespace {

std::shared_ptr<const type_info> builtin(oid type_oid) {
    auto type = type_catalog::builtin(type_oid);
    EXPECT_NE(type, nullptr) << type_oid;
    return type;
}

std::string json_of(oid type_oid, std::string_view text) {
    std::string out;
    append_value_json(out, *builtin(type_oid), text);
    return out;
}

std::string json_of(const type_info& type, std::string_view text) {
    std::string out;
    append_value_json(out, type, text);
    return out;
}

// Numbers keep their exact digits: a bigint or numeric rounded through a double would silently change data.
TEST(pg_values, numbers_are_bare_with_exact_digits) {
    EXPECT_EQ(json_of(20, "9223372036854775807"), "9223372036854775807");
    EXPECT_EQ(json_of(20, "-9223372036854775808"), "-9223372036854775808");
    EXPECT_EQ(json_of(21, "-32768"), "-32768");
    EXPECT_EQ(json_of(1700, "123456789012345678901234567890.000000000000000000001"),
              "123456789012345678901234567890.000000000000000000001");
    EXPECT_EQ(json_of(1700, "0.00"), "0.00");
    EXPECT_EQ(json_of(701, "1e+100"), "1e+100");
    EXPECT_EQ(json_of(700, "1.5e-07"), "1.5e-07");
}

// to_json writes NaN and infinities as strings: bare they would not be JSON.
TEST(pg_values, non_finite_numbers_are_strings) {
    EXPECT_EQ(json_of(701, "NaN"), "\"NaN\"");
    EXPECT_EQ(json_of(701, "Infinity"), "\"Infinity\"");
    EXPECT_EQ(json_of(700, "-Infinity"), "\"-Infinity\"");
    EXPECT_EQ(json_of(1700, "-Infinity"), "\"-Infinity\"");
}

// oid, money and the other non-json.c numbers are text in to_json.
TEST(pg_values, integer_like_types_that_to_json_quotes) {
    EXPECT_EQ(json_of(26, "5"), "\"5\"");
    EXPECT_EQ(json_of(790, "$1,000.00"), "\"$1,000.00\"");
    EXPECT_EQ(json_of(28, "731"), "\"731\"");
}

TEST(pg_values, booleans) {
    EXPECT_EQ(json_of(16, "t"), "true");
    EXPECT_EQ(json_of(16, "f"), "false");
}

// Timestamps in to_json's ISO-8601 form: 'T', and the offset always with minutes.
TEST(pg_values, timestamps_in_iso_8601) {
    EXPECT_EQ(json_of(1114, "2020-01-01 10:00:00"), "\"2020-01-01T10:00:00\"");
    EXPECT_EQ(json_of(1114, "2020-01-01 10:00:00.123456"), "\"2020-01-01T10:00:00.123456\"");
    EXPECT_EQ(json_of(1114, "infinity"), "\"infinity\"");
    EXPECT_EQ(json_of(1114, "-infinity"), "\"-infinity\"");
    EXPECT_EQ(json_of(1184, "2020-01-01 10:00:00+00"), "\"2020-01-01T10:00:00+00:00\"");
    EXPECT_EQ(json_of(1184, "2020-01-01 10:00:00.5-03:30"), "\"2020-01-01T10:00:00.5-03:30\"");
    EXPECT_EQ(json_of(1184, "1800-01-01 00:00:00+00:19:32"), "\"1800-01-01T00:00:00+00:19:32\"");
    EXPECT_EQ(json_of(1184, "0044-03-15 10:00:00+00 BC"), "\"0044-03-15T10:00:00+00:00 BC\"");
    EXPECT_EQ(json_of(1114, "0044-03-15 10:00:00 BC"), "\"0044-03-15T10:00:00 BC\"");
    EXPECT_EQ(json_of(1184, "12020-01-01 10:00:00+02"), "\"12020-01-01T10:00:00+02:00\"");
}

TEST(pg_values, dates_and_times_as_text) {
    EXPECT_EQ(json_of(1082, "2020-02-29"), "\"2020-02-29\"");
    EXPECT_EQ(json_of(1082, "0044-03-15 BC"), "\"0044-03-15 BC\"");
    EXPECT_EQ(json_of(1083, "10:00:01.5"), "\"10:00:01.5\"");
    EXPECT_EQ(json_of(1266, "10:00:00+02"), "\"10:00:00+02\"");
    EXPECT_EQ(json_of(1186, "1 year 2 mons 3 days 04:05:06"), "\"1 year 2 mons 3 days 04:05:06\"");
}

// json and jsonb are embedded, not quoted; bytea is its \x text.
TEST(pg_values, json_is_embedded_and_bytea_is_hex_text) {
    EXPECT_EQ(json_of(114, "{\"a\": [1, 2.50]}"), "{\"a\": [1, 2.50]}");
    EXPECT_EQ(json_of(3802, "{\"a\": [1, 2.50]}"), "{\"a\": [1, 2.50]}");
    EXPECT_EQ(json_of(17, "\\x0102ff"), "\"\\\\x0102ff\"");
}

TEST(pg_values, text_is_escaped) {
    EXPECT_EQ(json_of(25, "say \"hi\"\n\x01"), "\"say \\\"hi\\\"\\n\\u0001\"");
    EXPECT_EQ(json_of(1043, "Zoë"), "\"Zoë\"");
    EXPECT_EQ(json_of(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
              "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    EXPECT_EQ(json_of(3614, "'a':1A 'fat':2"), "\"'a':1A 'fat':2\"");
}

// Arrays: parsed from the text array format, elements rendered by their own type, NULL elements as null.
TEST(pg_values, arrays_of_every_shape) {
    EXPECT_EQ(json_of(1007, "{1,2,3}"), "[1,2,3]");
    EXPECT_EQ(json_of(1007, "{}"), "[]");
    EXPECT_EQ(json_of(1007, "{{1,NULL},{3,4}}"), "[[1,null],[3,4]]");
    EXPECT_EQ(json_of(1007, "[2:3]={1,2}"), "[1,2]");
    EXPECT_EQ(json_of(1007, "[0:1][1:1]={{1},{2}}"), "[[1],[2]]");
    EXPECT_EQ(json_of(1009, R"({"a b",NULL,"","x\\y","NULL","q\"uote",plain})"),
              R"(["a b",null,"","x\\y","NULL","q\"uote","plain"])");
    EXPECT_EQ(json_of(1000, "{t,f,NULL}"), "[true,false,null]");
    EXPECT_EQ(json_of(1231, "{1.0,NaN}"), "[1.0,\"NaN\"]");
    EXPECT_EQ(json_of(1185, R"({"2020-01-01 10:00:00+00",NULL})"), R"(["2020-01-01T10:00:00+00:00",null])");
    EXPECT_EQ(json_of(1183, "{12:00:00}"), "[\"12:00:00\"]");
    EXPECT_EQ(json_of(199, R"({"{\"a\":1}",NULL})"), R"([{"a":1},null])");
    EXPECT_EQ(json_of(1001, R"({"\\x01"})"), R"(["\\x01"])");
    EXPECT_EQ(json_of(1020, "{(1,2),(0,0);(3,3),(1,1)}"), R"x(["(1,2),(0,0)","(3,3),(1,1)"])x");
    EXPECT_EQ(json_of(1017, R"x({"(1,2)","(3,4)"})x"), R"x(["(1,2)","(3,4)"])x");
}

// int2vector and oidvector print without braces; to_json still makes arrays of them.
TEST(pg_values, vector_types_are_arrays) {
    EXPECT_EQ(json_of(22, "1 2 3"), "[1,2,3]");
    EXPECT_EQ(json_of(30, "1 2"), "[\"1\",\"2\"]");
    EXPECT_EQ(json_of(22, ""), "[]");
}

// Malformed array text (it cannot come from Postgres, but must never produce invalid JSON) falls back to
// text.
TEST(pg_values, malformed_arrays_fall_back_to_text) {
    for (const char* text : {"{1,2", "{1,2}x", "{\"open", "[1:2", "{{1},2"}) {
        const std::string json = json_of(1007, text);
        EXPECT_NO_THROW(boost::json::parse(json)) << text;
        EXPECT_EQ(json.front(), '"') << text;
    }
}

type_info composite_of(std::vector<type_attribute> attributes) {
    type_info type;
    type.type_oid = 100000;
    type.name = "film_summary";
    type.category = 'C';
    type.rendering = json_category::composite;
    type.attributes = std::move(attributes);
    return type;
}

// Composites become objects keyed by attribute name, each attribute rendered by its type (as to_json does).
TEST(pg_values, composites_are_objects) {
    const type_info film = composite_of({{"id", builtin(23)},
                                         {"title", builtin(25)},
                                         {"tags", builtin(1009)},
                                         {"rated", builtin(16)},
                                         {"note", builtin(25)}});
    EXPECT_EQ(json_of(film, R"((1,"ACADEMY ""DINO"" \\ X","{a,""b c""}",t,))"),
              R"({"id":1,"title":"ACADEMY \"DINO\" \\ X","tags":["a","b c"],"rated":true,"note":null})");
    EXPECT_EQ(json_of(film, R"((2,"",{},f,""))"), R"({"id":2,"title":"","tags":[],"rated":false,"note":""})");
}

// A composite whose catalog entry is stale (fields added or dropped since) is written as text, never wrongly.
TEST(pg_values, stale_composites_fall_back_to_text) {
    const type_info pair = composite_of({{"a", builtin(23)}, {"b", builtin(23)}});
    EXPECT_EQ(json_of(pair, "(1,2,3)"), "\"(1,2,3)\"");
    EXPECT_EQ(json_of(pair, "(1)"), "\"(1)\"");
    // An anonymous record has no attribute names on the client: text.
    EXPECT_EQ(json_of(2249, "(1,a)"), "\"(1,a)\"");
}

TEST(pg_values, arrays_of_composites) {
    auto pair = std::make_shared<type_info>(composite_of({{"a", builtin(23)}, {"b", builtin(25)}}));
    type_info array;
    array.type_oid = 100001;
    array.name = "film_summary[]";
    array.rendering = json_category::array;
    array.element = pair;
    EXPECT_EQ(json_of(array, R"x({"(1,x)","(2,\"y z\")",NULL})x"),
              R"x([{"a":1,"b":"x"},{"a":2,"b":"y z"},null])x");
}

// The renderer's cells point at the values or at its scratch; several rendered cells in one row must not
// overwrite each other, and CSV keeps the original text.
TEST(row_renderer, renders_a_row_of_mixed_types) {
    row_renderer renderer(
        {builtin(23), builtin(1184), builtin(1007), builtin(16), builtin(25), builtin(1114), builtin(701)});
    const std::vector<std::string> texts = {"7", "2020-01-01 10:00:00+00", "{1,NULL}", "t", "x", "", "NaN"};
    std::vector<raw_value> values;
    for (const auto& text : texts) {
        values.push_back(raw_value{text.data(), text.size(), false});
    }
    values[5].is_null = true;
    const row_view row = renderer.render(values);
    ASSERT_EQ(row.size(), 7U);
    EXPECT_EQ(row[0].json, "7");
    EXPECT_EQ(row[0].form, json_form::verbatim);
    EXPECT_EQ(row[1].json, "2020-01-01T10:00:00+00:00");
    EXPECT_EQ(row[1].form, json_form::string);
    EXPECT_EQ(row[1].text, "2020-01-01 10:00:00+00");
    EXPECT_EQ(row[2].json, "[1,null]");
    EXPECT_EQ(row[2].text, "{1,NULL}");
    EXPECT_EQ(row[3].json, "true");
    EXPECT_EQ(row[4].form, json_form::string);
    EXPECT_TRUE(row[5].is_null());
    EXPECT_EQ(row[6].form, json_form::string);

    // The next row reuses the scratch.
    const std::vector<std::string> second = {"8", "2021-06-01 00:00:00+02", "{}", "f",
                                             "y", "2021-06-01 00:00:00",    "1.5"};
    for (std::size_t index = 0; index < second.size(); ++index) {
        values[index] = raw_value{second[index].data(), second[index].size(), false};
    }
    const row_view next = renderer.render(values);
    EXPECT_EQ(next[1].json, "2021-06-01T00:00:00+02:00");
    EXPECT_EQ(next[2].json, "[]");
    EXPECT_EQ(next[5].json, "2021-06-01T00:00:00");
    EXPECT_EQ(next[6].form, json_form::verbatim);
}

// CSV sinks read only the text: the renderer then skips JSON work but keeps text and NULLs exact.
TEST(row_renderer, text_only_mode_keeps_text_and_nulls) {
    row_renderer renderer({builtin(1184), builtin(1007), builtin(25)}, false);
    const std::string timestamp = "2020-01-01 10:00:00+00";
    const std::string array = "{1,NULL}";
    const std::vector<raw_value> values = {raw_value{timestamp.data(), timestamp.size(), false},
                                           raw_value{array.data(), array.size(), false}, raw_value{}};
    const row_view row = renderer.render(values);
    EXPECT_EQ(row[0].text, timestamp);
    EXPECT_EQ(row[1].text, array);
    EXPECT_TRUE(row[2].is_null());
    EXPECT_FALSE(row[0].is_null());
}

TEST(type_catalog, knows_builtins_and_reports_the_rest_missing) {
    type_catalog catalog;
    EXPECT_EQ(catalog.find(23)->name, "integer");
    EXPECT_EQ(catalog.find(1184)->name, "timestamp with time zone");
    EXPECT_EQ(catalog.find(1020)->element->name, "box");
    EXPECT_EQ(catalog.find(1020)->delimiter, ';');
    EXPECT_EQ(catalog.find(16385), nullptr);
    const std::vector<oid> asked = {23, 16385, 16390, 16385};
    EXPECT_EQ(catalog.missing(asked), (std::vector<oid>{16385, 16390}));
    EXPECT_EQ(type_catalog::lookup_parameter(catalog.missing(asked)), "{16385,16390}");
}

}  // namespace
}  // namespace metahog::drivers::postgres
