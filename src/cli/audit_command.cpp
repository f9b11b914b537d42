// `metahog audit verify`, apart from main.cpp so that the command's output is defined in one place.
#include "cli/audit_command.hpp"

#include <ostream>
#include <system_error>

#include "services/audit_log.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::cli {

int verify_audit_log(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err) {
    const auto db_file = data_dir / "metahog.db";
    std::error_code ec;
    // Opening a missing file would create an empty store, whose empty chain "verifies": refuse instead.
    if (!std::filesystem::is_regular_file(db_file, ec)) {
        err << "metahog: no metadata database at " << db_file.string() << " (use --data-dir)\n";
        return audit_unreadable;
    }
    auto store = store::open_sqlite_store(db_file);
    if (!store) {
        err << "metahog: cannot open " << db_file.string() << ": " << store.error().message << "\n";
        return audit_unreadable;
    }
    services::audit_log log(**store);
    auto report = log.verify();
    if (!report) {
        err << "metahog: cannot read the audit log: " << report.error().message << "\n";
        return audit_unreadable;
    }
    out << "audit log: " << db_file.string() << "\n"
        << "records checked: " << report->records_checked << "\n"
        << "last good record: " << report->last_id << "\n"
        << "last good hash: " << report->last_hash << "\n";
    if (report->ok()) {
        out << "result: intact\n";
        return audit_intact;
    }
    const auto& problem = *report->first_break;
    out << "result: BROKEN at record " << problem.id << " (" << services::to_string(problem.problem) << ")\n"
        << "explanation: " << problem.explanation << "\n";
    return audit_broken;
}

}  // namespace metahog::cli
