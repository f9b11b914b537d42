// Request context helpers and the disconnect signal.
#include "http/message.hpp"

namespace metahog::http {

void client_disconnect::on_disconnect(std::function<void()> callback) {
    {
        std::lock_guard lock(mutex_);
        if (!disconnected_) {
            callbacks_.push_back(std::move(callback));
            return;
        }
    }
    callback();
}

void client_disconnect::notify() {
    std::vector<std::function<void()>> callbacks;
    {
        std::lock_guard lock(mutex_);
        if (disconnected_) {
            return;
        }
        disconnected_ = true;
        callbacks.swap(callbacks_);
    }
    for (auto& callback : callbacks) {
        callback();
    }
}

bool client_disconnect::disconnected() const {
    std::lock_guard lock(mutex_);
    return disconnected_;
}

std::string_view request_context::path_param(std::string_view name) const {
    const auto found = path_params.find(name);
    return found == path_params.end() ? std::string_view{} : std::string_view(found->second);
}

std::string request_context::query_param(std::string_view name) const {
    const auto params = target.params();
    const auto found = params.find(name);
    if (found == params.end()) {
        return {};
    }
    return (*found).value;
}

}  // namespace metahog::http
