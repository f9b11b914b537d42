// A team's members and their roles, managed by its admins: list, add (creating the user when asked to),
// change a role, remove. The store guards the last admin; this validates what clients send.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "store/metadata_store.hpp"

namespace metahog::services {

// New accounts made by an admin get a longer minimum than `metahog bootstrap` asks of its operator: the
// admin chooses it for someone else, who may keep it.
constexpr std::size_t min_member_password_length = 12;

class team_service {
public:
    explicit team_service(store::metadata_store& store);

    // Ordered by user id.
    result<std::vector<store::team_member>> members(std::int64_t team_id);

    struct added_member {
        store::team_member member;
        // True when the user did not exist and was created with the given password.
        bool created_user = false;
    };
    // From {"email", "role", "password"?}. An existing user is added as they are: a password in the body is
    // then ignored (an admin of one team must never be able to set the password of someone who may be an
    // admin elsewhere). An absent user is created only when a password is given. Hashing a new password
    // takes ~0.3 s of CPU (argon2id): call this off the I/O threads.
    result<added_member> add_member(std::int64_t team_id, const boost::json::object& body);
    // From {"role"}. not_found when the user is not a member; conflict for the last admin.
    result<store::team_member> change_role(std::int64_t team_id, std::int64_t user_id,
                                           const boost::json::object& body);
    // Access ends with the next request the user makes: roles are read on every request, never cached.
    result<void> remove_member(std::int64_t team_id, std::int64_t user_id);

private:
    result<store::team_member> member(std::int64_t team_id, std::int64_t user_id);

    store::metadata_store& store_;
};

}  // namespace metahog::services
