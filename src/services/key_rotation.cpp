// Checking, re-sealing and rotating: the store's transaction does the atomicity, this file the key handling.
#include "services/key_rotation.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <system_error>
#include <utility>

#include "security/seal.hpp"

namespace metahog::services {
namespace {

// Bounds the re-seal passes of one rotation. Each pass after the first finds only what a running server
// sealed with an old key during the previous one, which takes microseconds to happen at all.
constexpr int max_reseal_passes = 5;
constexpr const char* rotation_lock_name = ".rotate-key.lock";

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) {
        text += (text.empty() ? "" : ", ") + item;
    }
    return text;
}

// An exclusive flock held for one rotation; released when the descriptor closes, also if the process dies.
class rotation_lock {
public:
    static result<rotation_lock> take(const std::filesystem::path& directory) {
        const auto path = directory / rotation_lock_name;
        const int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (descriptor < 0) {
            return make_error(error_code::internal, "cannot open " + path.string() + ": " +
                                                        std::generic_category().message(errno));
        }
        rotation_lock lock(descriptor);
        if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                return make_error(error_code::invalid_input,
                                  "another `metahog rotate-key` is running on " + directory.string() +
                                      "; let it finish, then run again if needed");
            }
            return make_error(error_code::internal,
                              "cannot lock " + path.string() + ": " + std::generic_category().message(errno));
        }
        return lock;
    }
    rotation_lock(rotation_lock&& other) noexcept : descriptor_(std::exchange(other.descriptor_, -1)) {}
    rotation_lock& operator=(rotation_lock&&) = delete;
    rotation_lock(const rotation_lock&) = delete;
    rotation_lock& operator=(const rotation_lock&) = delete;
    ~rotation_lock() {
        if (descriptor_ >= 0) {
            ::close(descriptor_);
        }
    }

private:
    explicit rotation_lock(int descriptor) : descriptor_(descriptor) {}
    int descriptor_;
};

}  // namespace

result<std::int64_t> check_sealed_secrets(store::metadata_store& store, const security::keyring& keys,
                                          std::string_view location) {
    auto rows = store.list_all_sources();
    if (!rows) {
        return std::move(rows).error();
    }
    for (const auto& row : *rows) {
        if (row.sealed_secrets.empty()) {
            continue;
        }
        if (auto opened = security::open(keys, row.sealed_secrets, row.id); !opened) {
            const std::string_view key_id = security::sealed_key_id(row.sealed_secrets);
            if (!key_id.empty() && keys.find(key_id) == nullptr) {
                return make_error(error_code::invalid_input,
                                  "the master key in " + std::string(location) +
                                      " cannot open the stored secrets: source " + row.id +
                                      " was sealed with key " + std::string(key_id) + ", but " +
                                      std::string(location) + " holds " + joined(keys.ids()) +
                                      "; start MetaHog with the key that sealed them");
            }
            return make_error(error_code::invalid_input,
                              "the stored secret of source " + row.id + " does not open with the keys in " +
                                  std::string(location) + ": " + opened.error().message);
        }
    }
    return static_cast<std::int64_t>(rows->size());
}

result<std::int64_t> reseal_under_primary(store::metadata_store& store, const security::keyring& keys,
                                          const store::metadata_store::before_commit_function& before_commit) {
    const security::master_key& primary = keys.primary();
    return store.reseal_sources(
        [&](const store::sealed_source& row) -> result<std::optional<std::string>> {
            if (row.sealed_secrets.empty() || security::sealed_key_id(row.sealed_secrets) == primary.id()) {
                return std::optional<std::string>();
            }
            auto opened = security::open(keys, row.sealed_secrets, row.id);
            if (!opened) {
                return make_error(error_code::internal,
                                  "cannot re-seal the secret of source " + row.id + ": " + opened.error().message);
            }
            return std::optional<std::string>(security::seal(primary, *opened, row.id));
        },
        before_commit);
}

result<rotation_report> rotate_key_file(const std::filesystem::path& data_dir, store::metadata_store& store,
                                        std::shared_ptr<const security::master_key> new_key) {
    const auto path = security::key_file_path(data_dir);
    auto lock = rotation_lock::take(path.parent_path());
    if (!lock) {
        return std::move(lock).error();
    }
    auto contents = security::read_keyring_file(path);
    if (!contents) {
        return std::move(contents).error();
    }
    if (!contents->has_value()) {
        return make_error(error_code::invalid_input,
                          "there is no key file " + path.string() +
                              " to rotate; `metahog serve` creates it on first start");
    }
    const security::keyring current = (*contents)->keys;

    rotation_report report;
    // Step 2: the new key first, then every key in the file, so that old and new secrets both open.
    std::optional<security::keyring> target;
    if (new_key ? current.primary().id() == new_key->id() : current.size() > 1) {
        report.resumed = true;
        target = current;
    } else {
        std::vector<std::shared_ptr<const security::master_key>> keys{
            new_key ? new_key : std::make_shared<const security::master_key>(security::master_key::generate())};
        keys.insert(keys.end(), current.keys().begin(), current.keys().end());
        target = security::keyring(std::move(keys));
        if (auto written = security::write_keyring_file(path, *target); !written) {
            return std::move(written).error();
        }
    }
    report.new_key_id = std::string(target->primary().id());
    if (auto counted = store.list_all_sources(); counted) {
        report.secrets = static_cast<std::int64_t>(counted->size());
    }

    // Steps 3 and 4: re-seal until a pass finds nothing left, and let that pass retire the old keys while it
    // holds the write lock, so that no row can be sealed with a retired key after the check.
    const security::keyring primary_only({target->primary_shared()});
    for (int pass = 0; pass < max_reseal_passes; ++pass) {
        bool retired = false;
        auto resealed = reseal_under_primary(store, *target, [&](std::int64_t replaced) -> result<void> {
            if (replaced != 0 || target->size() == 1) {
                return {};
            }
            if (auto written = security::write_keyring_file(path, primary_only); !written) {
                return written;
            }
            retired = true;
            return {};
        });
        if (!resealed) {
            return std::move(resealed).error();
        }
        report.resealed += *resealed;
        if (retired) {
            for (const auto& id : target->ids()) {
                if (id != report.new_key_id) {
                    report.retired_key_ids.push_back(id);
                }
            }
        }
        if (*resealed == 0) {
            return report;
        }
    }
    return make_error(error_code::unavailable,
                      "secrets kept being sealed with an old key while rotating; every secret opens with " +
                          path.string() + " as it is, so run `metahog rotate-key` again to finish");
}

result<rotation_report> reseal_for_environment(store::metadata_store& store, const security::keyring& keys) {
    rotation_report report;
    report.new_key_id = std::string(keys.primary().id());
    if (auto counted = store.list_all_sources(); counted) {
        report.secrets = static_cast<std::int64_t>(counted->size());
    }
    auto resealed = reseal_under_primary(store, keys);
    if (!resealed) {
        return std::move(resealed).error();
    }
    report.resealed = *resealed;
    for (const auto& id : keys.ids()) {
        if (id != report.new_key_id) {
            report.retired_key_ids.push_back(id);
        }
    }
    return report;
}

}  // namespace metahog::services
