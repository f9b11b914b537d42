// Users, teams, memberships, API keys and browser sessions: the one code path that the HTTP API and the
// command line (`metahog bootstrap`) share.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "security/master_key.hpp"
#include "services/principal.hpp"
#include "store/metadata_store.hpp"

namespace metahog::services {

class identity_service {
public:
    identity_service(store::metadata_store& store, const security::master_key& key,
                     std::chrono::hours session_lifetime);

    struct bootstrap_result {
        std::int64_t team_id = 0;
        std::int64_t user_id = 0;
        std::string api_key;
    };
    // Creates the team and the user (as team admin) when missing and mints a new personal API key.
    // An existing user keeps their password; they are made admin of the team.
    result<bootstrap_result> bootstrap(std::string_view email, std::string_view password,
                                       std::string_view team_name);

    struct signed_in {
        principal who;
        std::string session_token;
        std::string csrf_token;
    };
    // Wrong e-mail and wrong password give the same error, in about the same time.
    result<signed_in> sign_in(std::string_view email, std::string_view password);
    result<void> sign_out(std::string_view session_token);

    result<principal> authenticate_api_key(std::string_view token);
    result<principal> authenticate_session(std::string_view session_token);
    // The CSRF token of a session is derived from it, so nothing extra is stored.
    std::string csrf_token_for(std::string_view session_token) const;

    result<std::vector<store::team_membership>> teams_of(const principal& who);
    // The caller's role in the team; not_found (never forbidden) when they are not a member, so the answer
    // gives no hint that the team exists.
    result<store::team_role> role_in_team(const principal& who, std::int64_t team_id);
    // The team `@current` stands for: the caller's first team.
    result<std::int64_t> default_team(const principal& who);

    struct minted_key {
        store::api_key key;
        std::string token;  // shown once, never stored
    };
    result<minted_key> create_api_key(const principal& who, std::string_view label);
    result<std::vector<store::api_key>> list_api_keys(const principal& who);
    result<void> revoke_api_key(const principal& who, std::int64_t key_id);

private:
    store::metadata_store& store_;
    const security::master_key& key_;
    std::chrono::hours session_lifetime_;
};

// Input rules shared by the API and the CLI.
result<std::string> normalize_email(std::string_view email);
result<void> check_new_password(std::string_view password);

}  // namespace metahog::services
