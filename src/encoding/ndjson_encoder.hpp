// NDJSON export: one JSON object per row and line, keys in column order (duplicates kept, as in the JSON
// response's `objects` format), values as in the contract's "Values" section. No header, no trailer.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "encoding/encoder.hpp"

namespace metahog::encoding {

class ndjson_encoder final : public encoder {
public:
    explicit ndjson_encoder(encoder_limits limits = {}, chunk_consumer consumer = {},
                            std::size_t flush_threshold = default_flush_threshold);

    bool on_columns(std::span<const column_info> columns) override;
    bool on_row(row_view row) override;
    // Hands over what is buffered. A failed stream gets no trailer: the transport must end it incompletely.
    void on_end(const stream_end& end) override;

private:
    std::vector<std::string> keys_;
};

}  // namespace metahog::encoding
