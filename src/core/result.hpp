// result<T>: a value or a metahog::error. g++ 12 in C++20 mode has no std::expected, so this is the small
// subset we need, with the same member names so a later switch is mechanical.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "core/error.hpp"

namespace metahog {

// Wraps an error so that `return unexpected(e);` reads the same as with std::expected.
struct unexpected {
    error value;
    explicit unexpected(error e) : value(std::move(e)) {}
};

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    result(unexpected failure) : state_(std::in_place_index<1>, std::move(failure.value)) {}  // NOLINT
    result(metahog::error failure) : state_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(state_); }
    const T& value() const& { assert(has_value()); return std::get<0>(state_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const metahog::error& error() const& { assert(!has_value()); return std::get<1>(state_); }
    metahog::error&& error() && { assert(!has_value()); return std::get<1>(std::move(state_)); }

private:
    std::variant<T, metahog::error> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(unexpected failure) : failure_(std::move(failure.value)), failed_(true) {}  // NOLINT
    result(metahog::error failure) : failure_(std::move(failure)), failed_(true) {}  // NOLINT

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return has_value(); }
    const metahog::error& error() const& { assert(failed_); return failure_; }
    metahog::error&& error() && { assert(failed_); return std::move(failure_); }

private:
    metahog::error failure_;
    bool failed_ = false;
};

}  // namespace metahog
