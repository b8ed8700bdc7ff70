#pragma once

#include "server/server.h"

namespace hearth {
// The client's version, compared with the server's /api/version answer by `hearth -v`.
inline constexpr const char* kVersion = server::kHearthVersion;
}
