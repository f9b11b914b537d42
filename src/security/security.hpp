// Everything metahog::security offers, for callers that want one include.
#pragma once

#include "security/ensure_initialized.hpp"
#include "security/master_key.hpp"
#include "security/password.hpp"
#include "security/seal.hpp"
#include "security/secret_keys.hpp"
#include "security/text_encoding.hpp"
#include "security/token.hpp"
#include "security/uuid.hpp"
