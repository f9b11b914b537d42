// Who is calling: the authenticated user and how they proved it.
#pragma once

#include <cstdint>
#include <string>

namespace metahog::services {

enum class credential_kind { api_key, session };

struct principal {
    std::int64_t user_id = 0;
    std::string email;
    credential_kind credential = credential_kind::api_key;
    // For session credentials: the CSRF token the request must carry for state changes.
    std::string expected_csrf_token;
};

}  // namespace metahog::services
