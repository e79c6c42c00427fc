// The packer UI's page, styles and scripts (station/ui/assets/), compiled into the station so
// that it serves them with no files beside it and no build step at run time.
#pragma once

#include <string_view>

namespace packbench::station {

struct UiAsset {
  std::string_view path;  // "/app.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;  // a hash of the body, for revalidation
};

// The asset served at `path`, or nullptr.
const UiAsset* find_ui_asset(std::string_view path);

}  // namespace packbench::station
