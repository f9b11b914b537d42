// sodium_init() exactly once per process.
#include "security/ensure_initialized.hpp"

#include <sodium.h>

#include <stdexcept>

namespace metahog::security {

void ensure_initialized() {
    // A function-local static is initialised exactly once even under concurrent first calls (C++11 magic
    // statics), so no extra locking is needed; sodium_init() returning 1 ("already done") is success too.
    static const int status = sodium_init();
    if (status < 0) {
        throw std::runtime_error("libsodium failed to initialise (no usable randomness source)");
    }
}

}  // namespace metahog::security
