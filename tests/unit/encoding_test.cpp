// Unit tests of the row encoders: the exact bytes users receive for execute (JSON), CSV and NDJSON exports,
// with the row and byte caps that keep responses bounded.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "encoding/csv_encoder.hpp"
#include "encoding/json_response_encoder.hpp"
#include "encoding/json_text.hpp"
#include "encoding/ndjson_encoder.hpp"

namespace metahog::encoding {
namespace {

cell null_cell() {
    return cell{};
}
cell number_cell(std::string_view text) {
    return cell{text, text, json_form::verbatim};
}
cell text_cell(std::string_view text) {
    return cell{text, text, json_form::string};
}

std::vector<column_info> columns_of(std::initializer_list<std::pair<const char*, const char*>> names) {
    std::vector<column_info> columns;
    for (const auto& [name, type] : names) {
        columns.push_back(column_info{name, type});
    }
    return columns;
}

// Feeds rows until the sink asks to stop; returns how many rows it accepted.
std::size_t feed(row_sink& sink, const std::vector<column_info>& columns,
                 const std::vector<std::vector<cell>>& rows, double execution_time_ms = 1.5) {
    std::size_t accepted = 0;
    bool exhausted = true;
    if (sink.on_columns(columns)) {
        for (const auto& row : rows) {
            if (!sink.on_row(row)) {
                exhausted = false;
                break;
            }
            ++accepted;
        }
    }
    sink.on_end(stream_end{exhausted, execution_time_ms, std::nullopt});
    return accepted;
}

std::string escaped(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

// Values must reach clients intact whatever bytes they hold: escapes as Postgres writes them, and no byte
// sequence that could make the document invalid JSON.
TEST(json_text, escapes_like_postgres_and_keeps_utf8) {
    EXPECT_EQ(escaped("plain"), "\"plain\"");
    EXPECT_EQ(escaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(escaped("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    EXPECT_EQ(escaped(std::string_view("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
    EXPECT_EQ(escaped("/ \x7f"), "\"/ \x7f\"");
    EXPECT_EQ(escaped("é€😀\xe2\x80\xa8"), "\"é€😀\xe2\x80\xa8\"");
}

TEST(json_text, replaces_invalid_utf8) {
    EXPECT_EQ(escaped("a\xff"
                      "b"),
              "\"a\xEF\xBF\xBD"
              "b\"");
    EXPECT_EQ(escaped("\xc0\xaf"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong '/'
    EXPECT_EQ(escaped("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // a surrogate
    EXPECT_EQ(escaped("\xe2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // truncated at the end
    EXPECT_EQ(escaped("\xf4\x90\x80\x80"),
              "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // > U+10FFFF
    EXPECT_NO_THROW(boost::json::parse(escaped("x\xfe\xff\xc3")));
}

// Only text that is a JSON number may be emitted bare; NaN and Infinity must be quoted as to_json does.
TEST(json_text, recognises_json_numbers) {
    for (const char* number : {"0", "-0", "12", "-9223372036854775808", "1.5", "1e+100", "1.5e-07", "0.000",
                               "123456789012345678901234567890.123456789012345678901234567890"}) {
        EXPECT_TRUE(is_json_number(number)) << number;
    }
    for (const char* other :
         {"", "-", "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "1e", "+1", "1 ", "0x1"}) {
        EXPECT_FALSE(is_json_number(other)) << other;
    }
}

// The execute body clients parse: exact layout of the contract, numbers with their exact digits (never
// through a double), strings escaped, nulls, timing with two decimals.
TEST(json_response_encoder, writes_the_contract_shape_with_exact_numbers) {
    json_response_encoder encoder(json_row_format::objects);
    const auto columns =
        columns_of({{"id", "bigint"}, {"amount", "numeric"}, {"title", "text"}, {"note", "text"}});
    const std::size_t accepted = feed(encoder, columns,
                                      {{number_cell("9223372036854775807"),
                                        number_cell("123456789012345678901234567890.000000000000000000001"),
                                        text_cell("Say \"hi\""), null_cell()}},
                                      8.514);
    EXPECT_EQ(accepted, 1U);
    EXPECT_EQ(
        encoder.take_output(),
        R"({"columns":["id","amount","title","note"],"types":["bigint","numeric","text","text"],)"
        R"("rows":[{"id":9223372036854775807,"amount":123456789012345678901234567890.000000000000000000001,)"
        R"("title":"Say \"hi\"","note":null}],"row_count":1,"truncated":false,"execution_time_ms":8.51})");
    EXPECT_FALSE(encoder.truncated());
}

// Duplicate column names survive: every column is a key in order (as row_to_json writes it), and the arrays
// format keeps all of them positionally.
TEST(json_response_encoder, keeps_duplicate_column_names) {
    const auto columns = columns_of({{"a", "integer"}, {"a", "integer"}, {"", "text"}});
    const std::vector<std::vector<cell>> rows = {{number_cell("1"), number_cell("2"), text_cell("x")}};

    json_response_encoder objects(json_row_format::objects);
    feed(objects, columns, rows);
    EXPECT_EQ(objects.take_output(),
              R"({"columns":["a","a",""],"types":["integer","integer","text"],"rows":[{"a":1,"a":2,"":"x"}],)"
              R"("row_count":1,"truncated":false,"execution_time_ms":1.50})");

    json_response_encoder arrays(json_row_format::arrays);
    feed(arrays, columns, rows);
    EXPECT_EQ(arrays.take_output(),
              R"({"columns":["a","a",""],"types":["integer","integer","text"],"rows":[[1,2,"x"]],)"
              R"("row_count":1,"truncated":false,"execution_time_ms":1.50})");
}

TEST(json_response_encoder, writes_an_empty_result) {
    json_response_encoder encoder(json_row_format::arrays);
    feed(encoder, columns_of({{"x", "integer"}}), {});
    EXPECT_EQ(encoder.take_output(),
              R"({"columns":["x"],"types":["integer"],"rows":[],"row_count":0,"truncated":false,)"
              R"("execution_time_ms":1.50})");
}

// The executor fetches max_rows + 1 rows: the extra row proves more existed and must not be written.
TEST(json_response_encoder, stops_at_the_row_cap_and_reports_truncated) {
    json_response_encoder encoder(json_row_format::arrays, encoder_limits{.max_rows = 2});
    const auto columns = columns_of({{"n", "integer"}});
    EXPECT_EQ(feed(encoder, columns, {{number_cell("1")}, {number_cell("2")}, {number_cell("3")}}), 2U);
    EXPECT_TRUE(encoder.truncated());
    EXPECT_EQ(encoder.row_count(), 2U);
    const auto body = boost::json::parse(encoder.take_output()).as_object();
    EXPECT_EQ(boost::json::serialize(body.at("rows")), "[[1],[2]]");
    EXPECT_EQ(body.at("truncated").as_bool(), true);
    EXPECT_EQ(body.at("row_count").as_int64(), 2);
}

TEST(json_response_encoder, exactly_max_rows_is_not_truncated) {
    json_response_encoder encoder(json_row_format::arrays, encoder_limits{.max_rows = 2});
    EXPECT_EQ(feed(encoder, columns_of({{"n", "integer"}}), {{number_cell("1")}, {number_cell("2")}}), 2U);
    EXPECT_FALSE(encoder.truncated());
}

// One giant value must not make a giant response: the body stays under the cap, stays valid JSON, and says
// it was truncated; the row that would have crossed the cap is not half-written.
TEST(json_response_encoder, stops_before_the_byte_cap) {
    const std::size_t cap = 1000;
    json_response_encoder encoder(json_row_format::objects, encoder_limits{.max_bytes = cap});
    const std::string big(600, 'x');
    const auto columns = columns_of({{"v", "text"}});
    EXPECT_EQ(feed(encoder, columns, {{text_cell(big)}, {text_cell(big)}, {text_cell("small")}}), 1U);
    const std::string body = encoder.take_output();
    EXPECT_LE(body.size(), cap);
    const auto parsed = boost::json::parse(body).as_object();
    EXPECT_EQ(parsed.at("rows").as_array().size(), 1U);
    EXPECT_TRUE(parsed.at("truncated").as_bool());
    EXPECT_EQ(parsed.at("row_count").as_int64(), 1);
}

TEST(json_response_encoder, a_first_row_over_the_cap_gives_zero_rows) {
    json_response_encoder encoder(json_row_format::arrays, encoder_limits{.max_bytes = 300});
    EXPECT_EQ(feed(encoder, columns_of({{"v", "text"}}), {{text_cell(std::string(10'000, 'y'))}}), 0U);
    const auto parsed = boost::json::parse(encoder.take_output()).as_object();
    EXPECT_TRUE(parsed.at("rows").as_array().empty());
    EXPECT_TRUE(parsed.at("truncated").as_bool());
}

// A failed statement must not produce a body that looks complete: no closing members are written.
TEST(json_response_encoder, a_failure_leaves_the_body_unfinished) {
    json_response_encoder encoder(json_row_format::arrays);
    const auto columns = columns_of({{"n", "integer"}});
    ASSERT_TRUE(encoder.on_columns(columns));
    const std::vector<cell> row = {number_cell("1")};
    ASSERT_TRUE(encoder.on_row(row));
    encoder.on_end(stream_end{false, 2.0, make_error(error_code::query_failed, "division by zero")});
    ASSERT_TRUE(encoder.failure().has_value());
    EXPECT_EQ(encoder.failure()->message, "division by zero");
    EXPECT_THROW(boost::json::parse(encoder.take_output()), std::exception);
}

// Streaming: chunks arrive in order and join into the same bytes; a consumer that goes away stops the stream.
TEST(json_response_encoder, streams_chunks_to_a_consumer) {
    std::string received;
    std::size_t chunks = 0;
    json_response_encoder encoder(
        json_row_format::arrays, {},
        [&](std::string_view chunk) {
            received.append(chunk);
            ++chunks;
            return true;
        },
        64);
    std::vector<std::vector<cell>> rows(100, std::vector<cell>{text_cell("0123456789")});
    feed(encoder, columns_of({{"v", "text"}}), rows);
    EXPECT_GT(chunks, 10U);
    EXPECT_TRUE(encoder.take_output().empty());
    EXPECT_EQ(boost::json::parse(received).as_object().at("row_count").as_int64(), 100);
}

TEST(encoder, a_consumer_that_goes_away_stops_the_stream) {
    std::size_t calls = 0;
    csv_encoder encoder(
        {}, [&](std::string_view) { return ++calls < 3; }, true, 16);
    std::vector<std::vector<cell>> rows(100, std::vector<cell>{text_cell("0123456789")});
    const std::size_t accepted = feed(encoder, columns_of({{"v", "text"}}), rows);
    EXPECT_LT(accepted, 10U);
    EXPECT_TRUE(encoder.consumer_gone());
    EXPECT_EQ(calls, 3U);
}

std::string csv_of(const std::vector<column_info>& columns, const std::vector<std::vector<cell>>& rows) {
    csv_encoder encoder;
    feed(encoder, columns, rows);
    return encoder.take_output();
}

// CSV is COPY's CSV: NULL is empty and unquoted, the empty string is "", quotes only where needed, "\n" ends.
TEST(csv_encoder, quotes_like_copy_csv) {
    const auto columns = columns_of({{"id", "integer"}, {"text", "text"}});
    EXPECT_EQ(csv_of(columns, {{number_cell("1"), null_cell()},
                               {number_cell("2"), text_cell("")},
                               {number_cell("3"), text_cell("a,b")},
                               {number_cell("4"), text_cell("say \"hi\"")},
                               {number_cell("5"), text_cell("line\nbreak")},
                               {number_cell("6"), text_cell("cr\rhere")},
                               {number_cell("7"), text_cell(" spaced ; tab\there 'single' é")},
                               {number_cell("8"), text_cell("\\.")},
                               {number_cell("9"), text_cell("NULL")}}),
              "id,text\n1,\n2,\"\"\n3,\"a,b\"\n4,\"say \"\"hi\"\"\"\n5,\"line\nbreak\"\n6,\"cr\rhere\"\n"
              "7, spaced ; tab\there 'single' é\n8,\\.\n9,NULL\n");
}

// psql reads `\.` alone on a line as end of data, so COPY quotes it in single-column output (value and
// header).
TEST(csv_encoder, quotes_the_end_marker_in_single_column_output) {
    EXPECT_EQ(csv_of(columns_of({{"\\.", "text"}}), {{text_cell("\\.")}, {null_cell()}, {text_cell("")}}),
              "\"\\.\"\n\"\\.\"\n\n\"\"\n");
}

TEST(csv_encoder, quotes_header_names_and_keeps_duplicates) {
    EXPECT_EQ(csv_of(columns_of({{"a", "integer"}, {"a", "integer"}, {"b,c", "text"}, {"", "text"}}),
                     {{number_cell("1"), number_cell("2"), text_cell("x"), null_cell()}}),
              "a,a,\"b,c\",\"\"\n1,2,x,\n");
}

// CSV writes the database's text, not the JSON rendering (booleans stay t/f, arrays keep braces).
TEST(csv_encoder, writes_text_not_json) {
    const cell boolean{"t", "true", json_form::verbatim};
    const cell array{"{1,2}", "[1,2]", json_form::verbatim};
    EXPECT_EQ(csv_of(columns_of({{"b", "boolean"}, {"a", "integer[]"}}), {{boolean, array}}),
              "b,a\nt,\"{1,2}\"\n");
}

// Drivers may skip JSON rendering for CSV, which reads only text; the JSON sinks need it.
TEST(csv_encoder, asks_for_text_only) {
    EXPECT_FALSE(csv_encoder().wants_json());
    EXPECT_TRUE(ndjson_encoder().wants_json());
    EXPECT_TRUE(json_response_encoder(json_row_format::objects).wants_json());
}

TEST(csv_encoder, caps_rows_and_bytes) {
    const auto columns = columns_of({{"n", "integer"}});
    csv_encoder by_rows(encoder_limits{.max_rows = 1});
    EXPECT_EQ(feed(by_rows, columns, {{number_cell("1")}, {number_cell("2")}}), 1U);
    EXPECT_TRUE(by_rows.truncated());
    EXPECT_EQ(by_rows.take_output(), "n\n1\n");

    csv_encoder by_bytes(encoder_limits{.max_bytes = 7});
    EXPECT_EQ(feed(by_bytes, columns, {{number_cell("10")}, {number_cell("20")}}), 1U);
    EXPECT_TRUE(by_bytes.truncated());
    EXPECT_EQ(by_bytes.take_output(), "n\n10\n");
}

// NDJSON: one object per line, same value rules as the JSON response.
TEST(ndjson_encoder, writes_one_object_per_line) {
    ndjson_encoder encoder;
    const cell json_value{"{\"k\": [1, 2]}", "{\"k\": [1, 2]}", json_form::verbatim};
    feed(encoder, columns_of({{"id", "bigint"}, {"doc", "jsonb"}, {"id", "text"}}),
         {{number_cell("1"), json_value, text_cell("é\n")}, {number_cell("2"), null_cell(), null_cell()}});
    const std::string output = encoder.take_output();
    EXPECT_EQ(output,
              "{\"id\":1,\"doc\":{\"k\": [1, 2]},\"id\":\"é\\n\"}\n{\"id\":2,\"doc\":null,\"id\":null}\n");
    EXPECT_EQ(encoder.row_count(), 2U);
}

TEST(ndjson_encoder, writes_nothing_for_no_rows) {
    ndjson_encoder encoder;
    feed(encoder, columns_of({{"id", "bigint"}}), {});
    EXPECT_EQ(encoder.take_output(), "");
}

}  // namespace
}  // namespace metahog::encoding
