// Stored secrets and master-key rotation: the start-up check that the keys open every stored secret, the
// re-seal transaction that `metahog rotate-key` and a running server share, and the rotation of the key file.
// The design is at the top of security/master_key.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "security/master_key.hpp"
#include "store/metadata_store.hpp"

namespace metahog::services {

// At start-up: every stored secret, deleted sources' too, names a key of `keys` and opens with it. The error
// names the first source that fails, the key id it needs and `location` (where the keys come from), never a
// secret: a wrong key stops MetaHog instead of failing each query later. Returns how many were checked.
result<std::int64_t> check_sealed_secrets(store::metadata_store& store, const security::keyring& keys,
                                          std::string_view location);

// Re-seals under keys.primary(), in one write transaction, every stored secret sealed with another key. A
// secret that no key of `keys` opens is an error and nothing changes. before_commit as in
// metadata_store::reseal_sources. Returns how many were re-sealed.
result<std::int64_t> reseal_under_primary(store::metadata_store& store, const security::keyring& keys,
                                          const store::metadata_store::before_commit_function& before_commit = {});

struct rotation_report {
    std::string new_key_id;
    // The key file already named the new key first: a rotation that stopped half-way is being finished.
    bool resumed = false;
    // Stored secrets, and how many of them were re-sealed by this run.
    std::int64_t secrets = 0;
    std::int64_t resealed = 0;
    // Keys removed from the key file; with METAHOG_SECRET_KEY, the keys no secret needs any more.
    std::vector<std::string> retired_key_ids;
};

// `metahog rotate-key` on DIR/secret.key, safe while servers run on DIR and safe to re-run after a crash at
// any point. new_key is the key to rotate to (--new-key-file); null makes a new one, or, when the file already
// holds several keys, finishes the rotation to its first. invalid_input when the file is missing or another
// rotation holds DIR/.rotate-key.lock.
result<rotation_report> rotate_key_file(const std::filesystem::path& data_dir, store::metadata_store& store,
                                        std::shared_ptr<const security::master_key> new_key);

// `metahog rotate-key` with METAHOG_SECRET_KEY set: re-seals everything under the variable's first key and
// reports the variable's other keys as no longer needed (only the administrator can change the variable).
result<rotation_report> reseal_for_environment(store::metadata_store& store, const security::keyring& keys);

}  // namespace metahog::services
