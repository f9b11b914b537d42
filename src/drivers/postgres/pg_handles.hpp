// Owning handles for libpq's C objects: each one is freed by exactly one named deleter, moved never copied.
// libpq's types are only forward-declared here so that including this header does not need libpq's include path;
// the deleters are defined in pg_connection.cpp, the one place that links libpq for them.
#pragma once

#include <memory>

// The same declarations as libpq-fe.h; repeating a typedef of the same type is well-formed C++.
extern "C" {
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct pg_cancel PGcancel;
}

namespace metahog::drivers::postgres {

struct pg_conn_deleter {
    void operator()(PGconn* conn) const noexcept;  // PQfinish
};

struct pg_result_deleter {
    void operator()(PGresult* result) const noexcept;  // PQclear
};

struct pg_cancel_deleter {
    void operator()(PGcancel* cancel) const noexcept;  // PQfreeCancel
};

using pg_conn_ptr = std::unique_ptr<PGconn, pg_conn_deleter>;
using pg_result_ptr = std::unique_ptr<PGresult, pg_result_deleter>;
using pg_cancel_ptr = std::unique_ptr<PGcancel, pg_cancel_deleter>;

}  // namespace metahog::drivers::postgres
