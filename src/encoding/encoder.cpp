// Buffering, chunk hand-off and cap bookkeeping shared by the row encoders.
#include "encoding/encoder.hpp"

#include <algorithm>

namespace metahog::encoding {

encoder::encoder(encoder_limits limits, chunk_consumer consumer, std::size_t flush_threshold)
    : limits_(limits),
      consumer_(std::move(consumer)),
      flush_threshold_(std::max<std::size_t>(flush_threshold, 1)) {
    // One chunk plus the row that overflows it, so a stream of ordinary rows never reallocates.
    buffer_.reserve(consumer_ ? flush_threshold_ + flush_threshold_ / 4 : 4096);
}

bool encoder::flush_if_full() {
    if (!consumer_ || buffer_.size() < flush_threshold_) {
        return true;
    }
    return flush_all();
}

bool encoder::flush_all() {
    if (!consumer_ || buffer_.empty()) {
        return !consumer_gone_;
    }
    if (consumer_gone_ || !consumer_(buffer_)) {
        consumer_gone_ = true;
        return false;
    }
    flushed_bytes_ += buffer_.size();
    buffer_.clear();  // keeps the capacity: the next chunk reuses the same memory
    return true;
}

bool encoder::mark_finished(const stream_end& end) {
    if (finished_) {
        return false;
    }
    finished_ = true;
    failure_ = end.failure;
    return true;
}

}  // namespace metahog::encoding
