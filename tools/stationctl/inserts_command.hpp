// stationctl inserts preview: an order's thank-you insert, discount card and packing slip as
// the station would print them now, as PNG files, without issuing anything.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace packbench::tools {

// args as stationctl got them, args[0] == "inserts". Returns the exit code.
int inserts_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace packbench::tools
