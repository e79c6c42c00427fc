// The bench's own barcodes and who may override: what a packer scans besides orders and items.
// All of it comes from the [pack] section of the configuration.
#pragma once

#include <string>
#include <vector>

namespace packbench::station {

struct Supervisor {
  std::string id;
  std::string badge;       // the badge's barcode; empty: PIN only
  std::string pin_sha256;  // hex SHA-256 of the PIN; empty: badge only
};

struct PackRules {
  std::string packer_badge_prefix = "PK-";  // "PK-0042": packer 0042 logs in (again: out)
  std::string command_prefix = "CMD-";      // CMD-UNDO, CMD-CANCEL, CMD-CLOSE-BOX, CMD-SHORT,
                                            // CMD-REOPEN
  std::string quantity_prefix = "QTY-";     // "QTY-6" then the item: six of it ("x6" works too)
  std::string pin_prefix = "PIN-";          // "PIN-2468": a supervisor's PIN, scanned or typed
  std::string reason_prefix = "RC-";        // "RC-DAMAGED": the reason for an override
  std::vector<std::string> reason_codes{"short-pick", "damaged", "out-of-stock"};
  std::vector<Supervisor> supervisors;
  bool require_packer = false;  // refuse orders and items until a packer has logged in
  int max_quantity = 999;
};

}  // namespace packbench::station
