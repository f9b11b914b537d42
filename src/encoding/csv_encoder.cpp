// CSV encoder following COPY's CSV output rules (CopyAttributeOutCSV) so exports match psql's byte for byte.
#include "encoding/csv_encoder.hpp"

#include <cassert>
#include <cstring>

namespace metahog::encoding {
namespace {

bool needs_quotes(std::string_view text, bool single_column) noexcept {
    if (text.empty()) {
        return true;
    }
    if (single_column && text == "\\.") {
        return true;
    }
    for (const char byte : text) {
        if (byte == ',' || byte == '"' || byte == '\n' || byte == '\r') {
            return true;
        }
    }
    return false;
}

}  // namespace

void append_csv_text(std::string& out, std::string_view text, bool single_column) {
    if (!needs_quotes(text, single_column)) {
        out.append(text);
        return;
    }
    out.push_back('"');
    std::size_t run_start = 0;
    for (std::size_t index = 0; index < text.size(); ++index) {
        if (text[index] == '"') {
            out.append(text.data() + run_start, index + 1 - run_start);  // the quote itself, then its double
            out.push_back('"');
            run_start = index + 1;
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
    out.push_back('"');
}

void append_csv_field(std::string& out, const cell& value, bool single_column) {
    if (!value.is_null()) {
        append_csv_text(out, value.text, single_column);
    }
}

csv_encoder::csv_encoder(encoder_limits limits, chunk_consumer consumer, bool header,
                         std::size_t flush_threshold)
    : encoder(limits, std::move(consumer), flush_threshold), header_(header) {}

bool csv_encoder::on_columns(std::span<const column_info> columns) {
    column_count_ = columns.size();
    if (!header_) {
        return true;
    }
    const bool single_column = columns.size() == 1;
    for (std::size_t index = 0; index < columns.size(); ++index) {
        if (index > 0) {
            buffer_.push_back(',');
        }
        append_csv_text(buffer_, columns[index].name, single_column);
    }
    buffer_.push_back('\n');
    return flush_if_full();
}

bool csv_encoder::on_row(row_view row) {
    assert(row.size() == column_count_);
    const bool single_column = column_count_ == 1;
    return append_row(0, [&] {
        for (std::size_t index = 0; index < column_count_; ++index) {
            if (index > 0) {
                buffer_.push_back(',');
            }
            append_csv_field(buffer_, row[index], single_column);
        }
        buffer_.push_back('\n');
    });
}

void csv_encoder::on_end(const stream_end& end) {
    if (mark_finished(end)) {
        (void)flush_all();
    }
}

}  // namespace metahog::encoding
