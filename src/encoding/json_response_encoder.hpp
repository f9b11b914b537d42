// The body of `direct_query/execute`, written as rows arrive:
// {"columns":[…],"types":[…],"rows":[…],"row_count":n,"truncated":b,"execution_time_ms":t}.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "encoding/encoder.hpp"

namespace metahog::encoding {

enum class json_row_format {
    // Each row an object keyed by column name, in column order. Duplicate column names are all kept, as
    // repeated keys in column order — exactly what Postgres's row_to_json() does. Most JSON parsers then keep
    // only the last value of a repeated key; clients that need every value ask for `arrays`.
    objects,
    // Each row an array in column order: lossless whatever the names.
    arrays,
};

class json_response_encoder final : public encoder {
public:
    // Without a consumer the whole body accumulates for take_output(); with one it is handed over in chunks.
    explicit json_response_encoder(json_row_format format, encoder_limits limits = {},
                                   chunk_consumer consumer = {},
                                   std::size_t flush_threshold = default_flush_threshold);

    bool on_columns(std::span<const column_info> columns) override;
    bool on_row(row_view row) override;
    // Writes the closing members unless the stream failed; a failed body must be replaced by an error.
    void on_end(const stream_end& end) override;

    // Room kept under max_bytes for the closing members, so that a capped body still ends within the cap.
    static constexpr std::size_t tail_reserve = 128;

private:
    json_row_format format_;
    // `"name":` for each column, with the separating comma from the second column on: written once per
    // result, copied per row.
    std::vector<std::string> keys_;
    std::size_t column_count_ = 0;
};

}  // namespace metahog::encoding
