// Throughput of what every row of every response goes through: value rendering (to_json rules) and the
// encoders (JSON objects and arrays, CSV, NDJSON), on a typical 10-column row. Run:
// build/bench/encoding_bench.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "drivers/postgres/type_catalog.hpp"
#include "drivers/postgres/value_render.hpp"
#include "encoding/csv_encoder.hpp"
#include "encoding/json_response_encoder.hpp"
#include "encoding/json_text.hpp"
#include "encoding/ndjson_encoder.hpp"

namespace {

using metahog::column_info;
using metahog::row_view;
using namespace metahog::drivers::postgres;
namespace encoding = metahog::encoding;

// id, amount, title, description, rating, created, active, tags, score, note (NULL)
const std::vector<std::pair<oid, std::string>> sample_row = {
    {20, "1234567"},
    {1700, "1234.56"},
    {25, "ACADEMY DINOSAUR"},
    {25, "A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies"},
    {1043, "PG-13"},
    {1184, "2022-02-15 09:34:33.123456+00"},
    {16, "t"},
    {1009, "{\"Deleted Scenes\",\"Behind the Scenes\"}"},
    {701, "0.3333333333333333"},
    {25, ""},
};

std::vector<column_info> sample_columns() {
    std::vector<column_info> columns;
    for (std::size_t index = 0; index < sample_row.size(); ++index) {
        columns.push_back(column_info{"column_" + std::to_string(index),
                                      type_catalog::builtin(sample_row[index].first)->name,
                                      sample_row[index].first, -1});
    }
    return columns;
}

row_renderer sample_renderer() {
    std::vector<std::shared_ptr<const type_info>> types;
    for (const auto& [type_oid, text] : sample_row) {
        types.push_back(type_catalog::builtin(type_oid));
    }
    return row_renderer(std::move(types));
}

std::vector<raw_value> sample_values() {
    std::vector<raw_value> values;
    for (const auto& [type_oid, text] : sample_row) {
        values.push_back(raw_value{text.data(), text.size(), false});
    }
    values.back().is_null = true;
    return values;
}

void render_rows(benchmark::State& state) {
    row_renderer renderer = sample_renderer();
    const auto values = sample_values();
    for (auto _ : state) {
        benchmark::DoNotOptimize(renderer.render(values).data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(render_rows);

// Renders and encodes `rows` rows per iteration into a streaming encoder whose chunks are dropped.
template <class make_encoder>
void encode_rows(benchmark::State& state, make_encoder make) {
    const auto columns = sample_columns();
    row_renderer renderer = sample_renderer();
    const auto values = sample_values();
    constexpr int rows = 10'000;
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto encoder = make([&bytes](std::string_view chunk) {
            bytes += chunk.size();
            return true;
        });
        (void)encoder->on_columns(columns);
        for (int row = 0; row < rows; ++row) {
            (void)encoder->on_row(renderer.render(values));
        }
        encoder->on_end(metahog::stream_end{true, 1.0, std::nullopt});
    }
    state.SetItemsProcessed(state.iterations() * rows);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void json_objects(benchmark::State& state) {
    encode_rows(state, [](encoding::chunk_consumer consumer) {
        return std::make_unique<encoding::json_response_encoder>(
            encoding::json_row_format::objects, encoding::encoder_limits{}, std::move(consumer));
    });
}
BENCHMARK(json_objects);

void json_arrays(benchmark::State& state) {
    encode_rows(state, [](encoding::chunk_consumer consumer) {
        return std::make_unique<encoding::json_response_encoder>(
            encoding::json_row_format::arrays, encoding::encoder_limits{}, std::move(consumer));
    });
}
BENCHMARK(json_arrays);

void csv(benchmark::State& state) {
    encode_rows(state, [](encoding::chunk_consumer consumer) {
        return std::make_unique<encoding::csv_encoder>(encoding::encoder_limits{}, std::move(consumer));
    });
}
BENCHMARK(csv);

void ndjson(benchmark::State& state) {
    encode_rows(state, [](encoding::chunk_consumer consumer) {
        return std::make_unique<encoding::ndjson_encoder>(encoding::encoder_limits{}, std::move(consumer));
    });
}
BENCHMARK(ndjson);

void escape_json_string(benchmark::State& state) {
    const std::string text(static_cast<std::size_t>(state.range(0)), 'a');
    std::string mixed = text;
    for (std::size_t index = 0; index < mixed.size(); index += 37) {
        mixed[index] = index % 2 == 0 ? '"' : '\n';
    }
    const std::string& input = state.range(1) == 0 ? text : mixed;
    std::string out;
    for (auto _ : state) {
        out.clear();
        encoding::append_json_string(out, input);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(escape_json_string)->Args({64, 0})->Args({64, 1})->Args({65536, 0})->Args({65536, 1});

void render_int_array(benchmark::State& state) {
    std::string text = "{";
    for (int element = 0; element < 100; ++element) {
        text += (element > 0 ? "," : "") + std::to_string(element * 1000);
    }
    text += "}";
    const auto type = type_catalog::builtin(1007);
    std::string out;
    for (auto _ : state) {
        out.clear();
        append_value_json(out, *type, text);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(render_int_array);

}  // namespace
