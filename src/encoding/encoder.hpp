// What every row encoder shares: an output buffer written in place as rows arrive, an optional consumer that
// receives it in chunks (streaming), and the row and byte caps that stop a stream and mark it truncated.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/rows.hpp"

namespace metahog::encoding {

struct encoder_limits {
    // Rows written at most; the first row past it marks the output truncated and stops the stream.
    std::size_t max_rows = std::numeric_limits<std::size_t>::max();
    // Bytes of output at most (flushed chunks included). A row that would pass it is not written: the output
    // stops before it, marked truncated. Fixed framing may still make a zero-row output larger than a tiny
    // cap.
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
};

// Receives encoded bytes in order. Returns false when the reader is gone: the encoder then stops the stream.
using chunk_consumer = std::function<bool(std::string_view chunk)>;

// Hands the buffer to the consumer once it holds this much; big enough to amortise a write, small enough to
// keep the memory of a streamed export constant.
inline constexpr std::size_t default_flush_threshold = 64 * 1024;

class encoder : public row_sink {
public:
    // Rows that made it into the output.
    std::size_t row_count() const noexcept { return row_count_; }
    // True when a cap stopped the output while more rows existed.
    bool truncated() const noexcept { return truncated_; }
    // True when the consumer refused a chunk: the output is incomplete and nobody is reading it.
    bool consumer_gone() const noexcept { return consumer_gone_; }
    // The failure the producer reported in on_end, if any. A failed execute response must be replaced by an
    // error; a failed stream must be ended without its final chunk so that the reader sees it incomplete.
    const std::optional<error>& failure() const noexcept { return failure_; }
    bool finished() const noexcept { return finished_; }
    // Total bytes produced so far, flushed or buffered.
    std::size_t bytes_written() const noexcept { return flushed_bytes_ + buffer_.size(); }
    // The bytes not yet given to a consumer: without a consumer, the whole output.
    std::string take_output() noexcept { return std::exchange(buffer_, std::string{}); }

protected:
    // Without a consumer everything stays in the buffer for take_output().
    encoder(encoder_limits limits, chunk_consumer consumer, std::size_t flush_threshold);

    // Shared on_row frame: applies the caps around `write_row` (which appends one row to buffer_) and undoes
    // a row that passed the byte cap. `reserve_tail` is the room the subclass needs after the last row.
    template <class write_function>
    bool append_row(std::size_t reserve_tail, write_function&& write_row) {
        if (finished_ || consumer_gone_) {
            return false;
        }
        if (row_count_ >= limits_.max_rows) {
            truncated_ = true;
            return false;
        }
        const std::size_t mark = buffer_.size();
        write_row();
        if (flushed_bytes_ + buffer_.size() + reserve_tail > limits_.max_bytes) {
            buffer_.resize(mark);
            truncated_ = true;
            return false;
        }
        ++row_count_;
        return flush_if_full();
    }

    // Gives the buffer to the consumer when it holds at least the threshold; false if the consumer is gone.
    bool flush_if_full();
    // Gives whatever is buffered to the consumer (used at the end of a stream).
    bool flush_all();
    // Records the end; returns false when on_end already ran.
    bool mark_finished(const stream_end& end);

    std::string buffer_;
    encoder_limits limits_;

private:
    chunk_consumer consumer_;
    std::size_t flush_threshold_;
    std::size_t flushed_bytes_ = 0;
    std::size_t row_count_ = 0;
    bool truncated_ = false;
    bool consumer_gone_ = false;
    bool finished_ = false;
    std::optional<error> failure_;
};

}  // namespace metahog::encoding
