// NDJSON encoder: each row one line holding one object.
#include "encoding/ndjson_encoder.hpp"

#include <cassert>

#include "encoding/json_text.hpp"

namespace metahog::encoding {

ndjson_encoder::ndjson_encoder(encoder_limits limits, chunk_consumer consumer, std::size_t flush_threshold)
    : encoder(limits, std::move(consumer), flush_threshold) {}

bool ndjson_encoder::on_columns(std::span<const column_info> columns) {
    keys_.clear();
    keys_.reserve(columns.size());
    for (std::size_t index = 0; index < columns.size(); ++index) {
        std::string key = index > 0 ? "," : "";
        append_json_string(key, columns[index].name);
        key.push_back(':');
        keys_.push_back(std::move(key));
    }
    return true;
}

bool ndjson_encoder::on_row(row_view row) {
    assert(row.size() == keys_.size());
    return append_row(0, [&] {
        buffer_.push_back('{');
        for (std::size_t index = 0; index < keys_.size(); ++index) {
            buffer_.append(keys_[index]);
            append_json_cell(buffer_, row[index]);
        }
        buffer_.append("}\n");
    });
}

void ndjson_encoder::on_end(const stream_end& end) {
    if (mark_finished(end)) {
        (void)flush_all();
    }
}

}  // namespace metahog::encoding
