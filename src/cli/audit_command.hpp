// `metahog audit verify`: walks the audit log's hash chain and says whether it is intact.
#pragma once

#include <filesystem>
#include <iosfwd>

namespace metahog::cli {

// Exit codes: 0 intact, 1 broken (the first break is printed), 2 the log could not be read.
inline constexpr int audit_intact = 0;
inline constexpr int audit_broken = 1;
inline constexpr int audit_unreadable = 2;

// Reads data_dir/metahog.db (never creates it); safe while a server writes to it. Reports to out, problems
// reading the file to err.
int verify_audit_log(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err);

}  // namespace metahog::cli
