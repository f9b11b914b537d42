// Identity: bootstrap, sign-in, sessions, API keys and team membership checks.
#include "services/identity_service.hpp"

#include <algorithm>

#include "security/password.hpp"
#include "security/token.hpp"

namespace metahog::services {
namespace {

constexpr std::string_view api_key_prefix = "mhk_";
constexpr std::string_view session_prefix = "mhs_";
constexpr std::string_view csrf_context = "csrftokn";  // crypto_kdf contexts are exactly 8 characters

error bad_credentials() {
    return make_error(error_code::unauthenticated, "wrong e-mail or password");
}

error invalid_key() {
    return make_error(error_code::unauthenticated, "invalid or revoked API key");
}

// Enough of the token to recognise it in a list, never enough to use it.
std::string mask_of(std::string_view token) {
    return std::string(token.substr(0, api_key_prefix.size() + 4)) + "…" + std::string(token.substr(token.size() - 4));
}

}  // namespace

result<std::string> normalize_email(std::string_view email) {
    std::string normalized;
    for (char c : email) {
        normalized.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    const auto at = normalized.find('@');
    const bool has_control = std::any_of(normalized.begin(), normalized.end(),
                                         [](char c) { return static_cast<unsigned char>(c) < 0x21; });
    if (normalized.size() > 254 || at == std::string::npos || at == 0 || at + 1 >= normalized.size() ||
        normalized.find('@', at + 1) != std::string::npos || has_control) {
        return make_error(error_code::invalid_input, "email must be an e-mail address", "email");
    }
    return normalized;
}

result<void> check_new_password(std::string_view password) {
    if (password.size() < 8) {
        return make_error(error_code::invalid_input, "password must have at least 8 characters", "password");
    }
    if (password.size() > 1024) {
        return make_error(error_code::invalid_input, "password must have at most 1024 characters", "password");
    }
    return {};
}

identity_service::identity_service(store::metadata_store& store, const security::master_key& key,
                                   std::chrono::hours session_lifetime)
    : store_(store), key_(key), session_lifetime_(session_lifetime) {}

result<identity_service::bootstrap_result> identity_service::bootstrap(std::string_view email,
                                                                       std::string_view password,
                                                                       std::string_view team_name) {
    auto normalized = normalize_email(email);
    if (!normalized) {
        return std::move(normalized).error();
    }
    if (auto checked = check_new_password(password); !checked) {
        return std::move(checked).error();
    }
    if (team_name.empty() || team_name.size() > 200) {
        return make_error(error_code::invalid_input, "team must have 1 to 200 characters", "team");
    }

    auto organization = store_.first_organization();
    if (!organization) {
        return std::move(organization).error();
    }
    std::int64_t organization_id = 0;
    if (organization->has_value()) {
        organization_id = (*organization)->id;
    } else {
        auto created = store_.create_organization("Default organization");
        if (!created) {
            return std::move(created).error();
        }
        organization_id = created->id;
    }

    auto team = store_.find_team_by_name(organization_id, team_name);
    if (!team) {
        return std::move(team).error();
    }
    std::int64_t team_id = 0;
    if (team->has_value()) {
        team_id = (*team)->id;
    } else {
        auto created = store_.create_team(organization_id, team_name);
        if (!created) {
            return std::move(created).error();
        }
        team_id = created->id;
    }

    auto existing = store_.find_user_by_email(*normalized);
    if (!existing) {
        return std::move(existing).error();
    }
    std::int64_t user_id = 0;
    if (existing->has_value()) {
        user_id = (*existing)->id;
    } else {
        auto hash = security::hash_password(password);
        if (!hash) {
            return std::move(hash).error();
        }
        auto created = store_.create_user(*normalized, *hash);
        if (!created) {
            return std::move(created).error();
        }
        user_id = created->id;
    }
    if (auto member = store_.set_membership(team_id, user_id, store::team_role::admin); !member) {
        return std::move(member).error();
    }

    principal who;
    who.user_id = user_id;
    auto minted = create_api_key(who, "bootstrap");
    if (!minted) {
        return std::move(minted).error();
    }
    return bootstrap_result{team_id, user_id, std::move(minted->token)};
}

result<identity_service::signed_in> identity_service::sign_in(std::string_view email, std::string_view password) {
    auto normalized = normalize_email(email);
    if (!normalized || password.empty() || password.size() > 1024) {
        return bad_credentials();
    }
    auto found = store_.find_user_by_email(*normalized);
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value()) {
        // Spend the time a real check would, so response times do not reveal which e-mails exist.
        static const std::string decoy = security::hash_password("decoy password for timing").value();
        (void)security::verify_password(decoy, password);
        return bad_credentials();
    }
    const store::user& account = **found;
    if (!security::verify_password(account.password_hash, password)) {
        return bad_credentials();
    }
    if (security::password_needs_rehash(account.password_hash)) {
        if (auto rehashed = security::hash_password(password)) {
            (void)store_.set_user_password(account.id, *rehashed);
        }
    }
    std::string token = security::random_token(session_prefix);
    auto created = store_.create_session(account.id, security::hash_token(token),
                                         store::wall_clock::now() + session_lifetime_);
    if (!created) {
        return std::move(created).error();
    }
    signed_in result_value;
    result_value.who.user_id = account.id;
    result_value.who.email = account.email;
    result_value.who.credential = credential_kind::session;
    result_value.csrf_token = csrf_token_for(token);
    result_value.who.expected_csrf_token = result_value.csrf_token;
    result_value.session_token = std::move(token);
    return result_value;
}

result<void> identity_service::sign_out(std::string_view session_token) {
    auto deleted = store_.delete_session(security::hash_token(session_token));
    if (!deleted) {
        return std::move(deleted).error();
    }
    return {};
}

result<principal> identity_service::authenticate_api_key(std::string_view token) {
    if (!token.starts_with(api_key_prefix) || token.size() > 200) {
        return invalid_key();
    }
    auto found = store_.find_active_api_key(security::hash_token(token));
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value()) {
        return invalid_key();
    }
    (void)store_.touch_api_key((*found)->key.id);
    principal who;
    who.user_id = (*found)->user.id;
    who.email = (*found)->user.email;
    who.credential = credential_kind::api_key;
    return who;
}

result<principal> identity_service::authenticate_session(std::string_view session_token) {
    const error expired = make_error(error_code::unauthenticated, "not signed in, or the session has expired");
    if (!session_token.starts_with(session_prefix) || session_token.size() > 200) {
        return expired;
    }
    auto found = store_.find_active_session(security::hash_token(session_token));
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value()) {
        return expired;
    }
    auto account = store_.find_user((*found)->user_id);
    if (!account) {
        return std::move(account).error();
    }
    if (!account->has_value()) {
        return expired;
    }
    principal who;
    who.user_id = (*account)->id;
    who.email = (*account)->email;
    who.credential = credential_kind::session;
    who.expected_csrf_token = csrf_token_for(session_token);
    return who;
}

std::string identity_service::csrf_token_for(std::string_view session_token) const {
    return security::keyed_hash(key_, csrf_context, session_token);
}

result<std::vector<store::team_membership>> identity_service::teams_of(const principal& who) {
    return store_.teams_of_user(who.user_id);
}

result<store::team_role> identity_service::role_in_team(const principal& who, std::int64_t team_id) {
    auto role = store_.membership_role(team_id, who.user_id);
    if (!role) {
        return std::move(role).error();
    }
    if (!role->has_value()) {
        return make_error(error_code::not_found, "team not found");
    }
    return **role;
}

result<std::int64_t> identity_service::default_team(const principal& who) {
    auto teams = teams_of(who);
    if (!teams) {
        return std::move(teams).error();
    }
    if (teams->empty()) {
        return make_error(error_code::not_found, "you are not a member of any team");
    }
    return teams->front().team.id;
}

result<identity_service::minted_key> identity_service::create_api_key(const principal& who,
                                                                      std::string_view label) {
    if (label.size() > 200) {
        return make_error(error_code::invalid_input, "label must have at most 200 characters", "label");
    }
    std::string token = security::random_token(api_key_prefix);
    auto created = store_.create_api_key(who.user_id, label, security::hash_token(token), mask_of(token));
    if (!created) {
        return std::move(created).error();
    }
    return minted_key{std::move(*created), std::move(token)};
}

result<std::vector<store::api_key>> identity_service::list_api_keys(const principal& who) {
    return store_.list_api_keys(who.user_id);
}

result<void> identity_service::revoke_api_key(const principal& who, std::int64_t key_id) {
    auto revoked = store_.revoke_api_key(who.user_id, key_id);
    if (!revoked) {
        return std::move(revoked).error();
    }
    if (!*revoked) {
        return make_error(error_code::not_found, "API key not found");
    }
    return {};
}

}  // namespace metahog::services
