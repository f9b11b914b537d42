// secret_keys: sealing and opening under a keyring that follows the key file through rotations.
#include "security/secret_keys.hpp"

#include <algorithm>
#include <utility>

#include "security/seal.hpp"

namespace metahog::security {

result<std::shared_ptr<secret_keys>> secret_keys::load(const std::filesystem::path& data_dir,
                                                       const secrets_exist_check& secrets_exist) {
    auto loaded = load_keyring(data_dir, secrets_exist);
    if (!loaded) {
        return std::move(loaded).error();
    }
    return std::make_shared<secret_keys>(std::move(*loaded));
}

secret_keys::secret_keys(loaded_keyring loaded)
    : origin_(loaded.origin),
      file_(std::move(loaded.file)),
      state_{loaded.keys, loaded.keys.ids(), loaded.stamp} {}

result<void> secret_keys::refresh_locked() {
    if (origin_ != key_origin::file) {
        return {};
    }
    auto stamp = stat_key_file(file_);
    if (!stamp) {
        return std::move(stamp).error();
    }
    if (*stamp == state_.stamp) {
        return {};
    }
    // Changed (or gone): read it with every start-up check, permissions included. A failed read keeps the keys
    // held so far, so requests that need only those go on working while the administrator fixes the file.
    auto contents = read_keyring_file(file_);
    if (!contents) {
        return std::move(contents).error();
    }
    if (!contents->has_value()) {
        return make_error(error_code::internal,
                          "the key file " + file_.string() + " disappeared while MetaHog was running; restore it");
    }
    auto keys = (*contents)->keys.keys();
    for (const auto& held : state_.all.keys()) {
        if ((*contents)->keys.find(held->id()) == nullptr) {
            keys.push_back(held);
        }
    }
    state_.current_ids = (*contents)->keys.ids();
    state_.all = keyring(std::move(keys));
    state_.stamp = (*contents)->stamp;
    return {};
}

result<std::string> secret_keys::seal(std::string_view plaintext, std::string_view associated_data) {
    std::shared_ptr<const master_key> primary;
    {
        const std::lock_guard lock(mutex_);
        if (auto refreshed = refresh_locked(); !refreshed) {
            return std::move(refreshed).error();
        }
        primary = state_.all.primary_shared();
    }
    return security::seal(*primary, plaintext, associated_data);
}

result<std::string> secret_keys::open(std::string_view sealed, std::string_view associated_data) {
    auto keys = all_keys();
    const std::string_view key_id = sealed_key_id(sealed);
    if (!key_id.empty() && keys.find(key_id) == nullptr) {
        // Sealed under a key this process has not seen: a rotation has probably written a new key file.
        const std::lock_guard lock(mutex_);
        if (auto refreshed = refresh_locked(); !refreshed) {
            return std::move(refreshed).error();
        }
        keys = state_.all;
    }
    return security::open(keys, sealed, associated_data);
}

result<bool> secret_keys::still_held(std::string_view key_id) {
    const std::lock_guard lock(mutex_);
    if (auto refreshed = refresh_locked(); !refreshed) {
        return std::move(refreshed).error();
    }
    return std::find(state_.current_ids.begin(), state_.current_ids.end(), key_id) != state_.current_ids.end();
}

keyring secret_keys::all_keys() const {
    const std::lock_guard lock(mutex_);
    return state_.all;
}

std::string secret_keys::location() const {
    return origin_ == key_origin::file ? file_.string() : std::string(master_key_env_var);
}

}  // namespace metahog::security
