// Reading [discounts] and [[campaign]] from the station's configuration file. Reading never
// stops at the first problem; each comes back as a ConfigProblem naming file, line, column and
// key, like the rest of the configuration.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "station/config/config.hpp"
#include "station/discount/campaign.hpp"

namespace packbench::station::discount {

// Reads [discounts] and every [[campaign]] from a parsed configuration, and checks them
// (names, dates, links, prefixes, the key file when a campaign signs). Problems are appended to
// `problems` with `source_name` as their file. `base_dir` resolves a relative key_file.
DiscountConfig read_discount_config(const toml::table& root, const std::string& source_name,
                                    const std::filesystem::path& base_dir,
                                    std::vector<ConfigProblem>& problems);

}  // namespace packbench::station::discount
