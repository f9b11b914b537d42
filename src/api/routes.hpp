// Route groups; each registers its handlers on the application's router.
#pragma once

#include "api/application.hpp"

namespace metahog::api {

void add_operations_routes(application& app);   // /healthz, /metrics
void add_identity_routes(application& app);     // /api/auth/*, /api/personal_api_keys/*
void add_source_routes(application& app);       // external_data_sources, direct_query/sources
void add_query_routes(application& app);        // direct_query: execute, explain, schema, cancel
void add_audit_routes(application& app);        // audit_log (team admins)
void add_team_routes(application& app);         // members (team admins)

}  // namespace metahog::api
