// stationctl label ...: templates rendered for an order (see docs/labels.md).
#pragma once

#include <string>
#include <vector>

namespace packbench::tools {

// args as stationctl got them, args[0] == "label". Returns the exit code.
int label_command(const std::vector<std::string>& args);

}  // namespace packbench::tools
