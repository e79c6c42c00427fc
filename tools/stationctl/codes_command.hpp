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

// stationctl codes pull --campaign ID [--count N] [--config FILE] [--state-dir DIR]: claims codes
// for the campaign's pool from the back office ([discounts] pool_url) now, with stationd's
// client and claims: the campaign's pending claim is sent again if it has one, else a new claim
// of N codes (default: the campaign's refill) is made. Exits 0 when the claim is done and every
// code it brought is in the pool, 1 when it is not done (it stays pending or was refused) or
// some code was rejected, 2 on a usage or configuration error.
int codes_pull(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const std::vector<station::Migration>* migrations = nullptr);

}  // namespace packbench::tools
