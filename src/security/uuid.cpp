// UUIDv7 generation (RFC 9562 §5.7, with the §6.2 method 1 counter) and canonical-text validation.
#include "security/uuid.hpp"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "security/ensure_initialized.hpp"

namespace metahog::security {
namespace {

constexpr std::uint16_t counter_max = 0x0FFF;
// A fresh millisecond seeds the 12-bit counter below 2^11, leaving at least 2048 ids before it overflows;
// a random seed keeps ids from different processes in the same millisecond from colliding on the counter.
constexpr std::uint16_t counter_seed_mask = 0x07FF;

struct timestamp_and_counter {
    std::uint64_t unix_ms = 0;
    std::uint16_t counter = 0;
};

// The last (millisecond, counter) handed out by this process.
class monotonic_clock {
public:
    timestamp_and_counter next(std::uint64_t now_ms, std::uint16_t random_seed) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (now_ms > last_.unix_ms) {
            last_ = {now_ms, static_cast<std::uint16_t>(random_seed & counter_seed_mask)};
        } else if (last_.counter < counter_max) {
            // Same millisecond, or the clock stepped back: stay on the last timestamp and count up.
            ++last_.counter;
        } else {
            // Counter exhausted: borrow the next millisecond (RFC 9562 §6.2 allows it) to stay increasing.
            last_ = {last_.unix_ms + 1, static_cast<std::uint16_t>(random_seed & counter_seed_mask)};
        }
        return last_;
    }

private:
    std::mutex mutex_;
    timestamp_and_counter last_;
};

monotonic_clock& process_clock() {
    static monotonic_clock clock;
    return clock;
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_dash_position(std::size_t index) {
    return index == 8 || index == 13 || index == 18 || index == 23;
}

}  // namespace

std::string new_uuid() {
    ensure_initialized();
    // Two bytes seed the counter, the rest fill rand_b; drawn outside the lock.
    std::array<unsigned char, 10> random{};
    randombytes_buf(random.data(), random.size());
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto now_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    const auto seed = static_cast<std::uint16_t>((random[0] << 8) | random[1]);
    const timestamp_and_counter stamp = process_clock().next(now_ms, seed);

    std::array<unsigned char, 16> bytes{};
    for (std::size_t index = 0; index < 6; ++index) {
        bytes[index] = static_cast<unsigned char>(stamp.unix_ms >> (8 * (5 - index)));
    }
    bytes[6] = static_cast<unsigned char>(0x70 | ((stamp.counter >> 8) & 0x0F));
    bytes[7] = static_cast<unsigned char>(stamp.counter & 0xFF);
    for (std::size_t index = 8; index < 16; ++index) {
        bytes[index] = random[index - 6];
    }
    bytes[8] = static_cast<unsigned char>(0x80 | (bytes[8] & 0x3F));

    constexpr std::string_view digits = "0123456789abcdef";
    std::string text;
    text.reserve(36);
    for (std::size_t index = 0; index < bytes.size(); ++index) {
        if (index == 4 || index == 6 || index == 8 || index == 10) {
            text.push_back('-');
        }
        text.push_back(digits[bytes[index] >> 4]);
        text.push_back(digits[bytes[index] & 0x0F]);
    }
    return text;
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) {
        return false;
    }
    for (std::size_t index = 0; index < text.size(); ++index) {
        const bool valid = is_dash_position(index) ? text[index] == '-' : is_lower_hex(text[index]);
        if (!valid) {
            return false;
        }
    }
    return true;
}

}  // namespace metahog::security
