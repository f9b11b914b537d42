// CSV export (RFC 4180), byte for byte what `psql -c "\copy (…) to stdout csv header"` writes for the same
// values: the database's text output of each value, quoted only when COPY would quote it, "\n" line ends.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "encoding/encoder.hpp"

namespace metahog::encoding {

// Appends one field as COPY … CSV does: NULL is an empty unquoted field; a value is quoted when it is empty
// (so that it differs from NULL), holds a comma, a double quote, CR or LF, or — in a single-column output —
// is exactly `\.` (psql's end-of-data marker); inner quotes are doubled.
void append_csv_field(std::string& out, const cell& value, bool single_column);
void append_csv_text(std::string& out, std::string_view text, bool single_column);

class csv_encoder final : public encoder {
public:
    explicit csv_encoder(encoder_limits limits = {}, chunk_consumer consumer = {}, bool header = true,
                         std::size_t flush_threshold = default_flush_threshold);

    bool on_columns(std::span<const column_info> columns) override;
    bool on_row(row_view row) override;
    // Hands over what is buffered. A failed stream gets no trailer: the transport must end it incompletely.
    void on_end(const stream_end& end) override;
    bool wants_json() const noexcept override { return false; }

private:
    bool header_;
    std::size_t column_count_ = 0;
};

}  // namespace metahog::encoding
