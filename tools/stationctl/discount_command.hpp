// stationctl discount ...: signed discount codes (see docs/discounts.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace packbench::tools {

// args as stationctl got them, args[0] == "discount". Exit codes: 0 the code is valid, 1 it is
// not (typo, forged, expired, malformed), 2 usage or an unusable key file.
int discount_command(const std::vector<std::string>& args);
int discount_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace packbench::tools
