#pragma once
// How much memory the system can still give: MemAvailable of /proc/meminfo (free memory plus the
// page cache it can drop), for decisions that would otherwise end in the OOM killer.

#include <cstdint>

namespace hearth {

// Bytes, or 0 when unknown (no /proc/meminfo).
uint64_t available_memory_bytes();

}  // namespace hearth
