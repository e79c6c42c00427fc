// Logs go to stderr. Under systemd (JOURNAL_STREAM set) each line starts with its syslog
// priority, "<3>", and carries no timestamp: the journal adds its own.
#pragma once

#include <string>

namespace packbench::station {

void setup_logging(const std::string& level);

}  // namespace packbench::station
