// stationctl orders ls | feed: the orders the station has, and where its order feed is.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace packbench::tools {

// args as stationctl got them, args[0] == "orders", args[1] == "ls" or "feed". Exit codes: 0
// done, 1 the store cannot be read, 2 usage.
int orders_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace packbench::tools
