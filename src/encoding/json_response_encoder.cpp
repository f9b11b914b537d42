// JSON execute response encoder: header once, rows appended in place, counts and timing at the end.
#include "encoding/json_response_encoder.hpp"

#include <cassert>

#include "encoding/json_text.hpp"

namespace metahog::encoding {

json_response_encoder::json_response_encoder(json_row_format format, encoder_limits limits,
                                             chunk_consumer consumer, std::size_t flush_threshold)
    : encoder(limits, std::move(consumer), flush_threshold), format_(format) {}

bool json_response_encoder::on_columns(std::span<const column_info> columns) {
    column_count_ = columns.size();
    keys_.clear();
    keys_.reserve(columns.size());
    buffer_.append("{\"columns\":[");
    for (std::size_t index = 0; index < columns.size(); ++index) {
        if (index > 0) {
            buffer_.push_back(',');
        }
        append_json_string(buffer_, columns[index].name);
        if (format_ == json_row_format::objects) {
            std::string key = index > 0 ? "," : "";
            append_json_string(key, columns[index].name);
            key.push_back(':');
            keys_.push_back(std::move(key));
        }
    }
    buffer_.append("],\"types\":[");
    for (std::size_t index = 0; index < columns.size(); ++index) {
        if (index > 0) {
            buffer_.push_back(',');
        }
        append_json_string(buffer_, columns[index].type_name);
    }
    buffer_.append("],\"rows\":[");
    return flush_if_full();
}

bool json_response_encoder::on_row(row_view row) {
    assert(row.size() == column_count_);
    return append_row(tail_reserve, [&] {
        if (row_count() > 0) {
            buffer_.push_back(',');
        }
        if (format_ == json_row_format::objects) {
            buffer_.push_back('{');
            for (std::size_t index = 0; index < column_count_; ++index) {
                buffer_.append(keys_[index]);
                append_json_cell(buffer_, row[index]);
            }
            buffer_.push_back('}');
        } else {
            buffer_.push_back('[');
            for (std::size_t index = 0; index < column_count_; ++index) {
                if (index > 0) {
                    buffer_.push_back(',');
                }
                append_json_cell(buffer_, row[index]);
            }
            buffer_.push_back(']');
        }
    });
}

void json_response_encoder::on_end(const stream_end& end) {
    if (!mark_finished(end) || end.failure) {
        return;
    }
    buffer_.append("],\"row_count\":");
    append_unsigned(buffer_, row_count());
    buffer_.append(truncated() ? ",\"truncated\":true" : ",\"truncated\":false");
    buffer_.append(",\"execution_time_ms\":");
    append_fixed(buffer_, end.execution_time_ms, 2);
    buffer_.push_back('}');
    (void)flush_all();
}

}  // namespace metahog::encoding
