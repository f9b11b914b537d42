// Process-wide libsodium start-up, called first by every function of metahog::security.
#pragma once

namespace metahog::security {

// Runs sodium_init() once, whichever thread gets here first; later calls cost one atomic load.
// Throws std::runtime_error when libsodium cannot start (no randomness source): nothing in this folder
// may run then, so it is a broken invariant rather than an expected failure.
void ensure_initialized();

}  // namespace metahog::security
