// Team membership management.
#include "services/team_service.hpp"

#include "security/password.hpp"
#include "services/identity_service.hpp"

namespace metahog::services {
namespace {

namespace json = boost::json;

error member_not_found() {
    return make_error(error_code::not_found, "member not found");
}

result<store::team_role> role_field(const json::object& body) {
    const json::value* role = body.if_contains("role");
    if (role != nullptr && role->is_string()) {
        if (auto parsed = store::parse_team_role(std::string_view(role->as_string()))) {
            return *parsed;
        }
    }
    return make_error(error_code::invalid_input, "role must be one of \"admin\", \"member\", \"viewer\"",
                      "role");
}

result<void> check_member_password(std::string_view password) {
    if (password.size() < min_member_password_length) {
        return make_error(
            error_code::invalid_input,
            "password must have at least " + std::to_string(min_member_password_length) + " characters",
            "password");
    }
    return check_new_password(password);
}

}  // namespace

team_service::team_service(store::metadata_store& store) : store_(store) {}

result<std::vector<store::team_member>> team_service::members(std::int64_t team_id) {
    return store_.members_of_team(team_id);
}

result<store::team_member> team_service::member(std::int64_t team_id, std::int64_t user_id) {
    auto listed = store_.members_of_team(team_id);
    if (!listed) {
        return std::move(listed).error();
    }
    for (auto& member : *listed) {
        if (member.user_id == user_id) {
            return std::move(member);
        }
    }
    return member_not_found();
}

result<team_service::added_member> team_service::add_member(std::int64_t team_id, const json::object& body) {
    const json::value* email_value = body.if_contains("email");
    if (email_value == nullptr || !email_value->is_string()) {
        return make_error(error_code::invalid_input, "email is required and must be a string", "email");
    }
    auto email = normalize_email(std::string_view(email_value->as_string()));
    if (!email) {
        return std::move(email).error();
    }
    auto role = role_field(body);
    if (!role) {
        return std::move(role).error();
    }
    const json::value* password = body.if_contains("password");
    if (password != nullptr && !password->is_null() && !password->is_string()) {
        return make_error(error_code::invalid_input, "password must be a string", "password");
    }
    const bool has_password = password != nullptr && password->is_string();

    auto existing = store_.find_user_by_email(*email);
    if (!existing) {
        return std::move(existing).error();
    }
    added_member added;
    std::int64_t user_id = 0;
    if (existing->has_value()) {
        user_id = (*existing)->id;
    } else {
        if (!has_password) {
            return make_error(error_code::invalid_input,
                              "no user has this e-mail; give a password (at least " +
                                  std::to_string(min_member_password_length) + " characters) to create one",
                              "password");
        }
        const std::string_view text(password->as_string());
        if (auto checked = check_member_password(text); !checked) {
            return std::move(checked).error();
        }
        auto hash = security::hash_password(text);
        if (!hash) {
            return std::move(hash).error();
        }
        // conflict when the same e-mail was created meanwhile: the client may simply retry.
        auto created = store_.create_user(*email, *hash);
        if (!created) {
            return std::move(created).error();
        }
        user_id = created->id;
        added.created_user = true;
    }
    if (auto joined = store_.add_membership(team_id, user_id, *role); !joined) {
        return std::move(joined).error();
    }
    auto stored = member(team_id, user_id);
    if (!stored) {
        return std::move(stored).error();
    }
    added.member = std::move(*stored);
    return added;
}

result<store::team_member> team_service::change_role(std::int64_t team_id, std::int64_t user_id,
                                                     const json::object& body) {
    auto role = role_field(body);
    if (!role) {
        return std::move(role).error();
    }
    auto changed = store_.change_membership_role(team_id, user_id, *role);
    if (!changed) {
        return std::move(changed).error();
    }
    if (!*changed) {
        return member_not_found();
    }
    return member(team_id, user_id);
}

result<void> team_service::remove_member(std::int64_t team_id, std::int64_t user_id) {
    auto removed = store_.remove_membership(team_id, user_id);
    if (!removed) {
        return std::move(removed).error();
    }
    if (!*removed) {
        return member_not_found();
    }
    return {};
}

}  // namespace metahog::services
