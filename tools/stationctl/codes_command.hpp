// stationctl codes ...: discount code pools in the station's store (see docs/discounts.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "station/store/store.hpp"

namespace packbench::tools {

// args as stationctl got them, args[0] == "codes". Returns the exit code.
int codes_command(const std::vector<std::string>& args);

// stationctl codes import --campaign ID FILE [--config FILE] [--state-dir DIR]: adds the file's
// codes to the campaign's pool. Exits 0 when every code is in the pool, 1 when some line was
// rejected or some code belongs to another campaign (the others are imported), 2 on a usage error
// or a store without the discount tables. `migrations` is the store's schema (nullptr: the
// station's own list).
int codes_import(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 const std::vector<station::Migration>* migrations = nullptr);

}  // namespace packbench::tools
