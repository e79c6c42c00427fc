// Zebra's Host Status Return, ~HS (ZPL II Programming Guide, "ZPL Commands" > "~HS Host Status
// Return"). The printer answers with three strings, each <STX>fields<ETX><CR><LF>:
//
//   string 1  aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
//             b paper out, c pause, dddd label length (dots), eee formats in the receive
//             buffer, f buffer full, g diagnostic mode, h partial format, iii unused, j corrupt
//             RAM (configuration lost), k under temperature, l over temperature
//   string 2  mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www
//             o head up, p ribbon out, q thermal transfer mode, r print mode, s print width
//             mode, t label waiting (peel-off), uuuuuuuu labels remaining in batch, v format
//             while printing, www graphics stored
//   string 3  xxxx,y
//             xxxx password, y static RAM installed
//
// The same section says a printer that is out of media or ribbon, has its head open, its
// rewinder full or its head over temperature may not answer at all: silence from a printer that
// took the connection is a fault, not a network problem (the backend says so).
//
// Pure: bytes in, a value or an error out. Fuzzed (tests/fuzz/host_status_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "packbench/drivers/device.hpp"
#include "packbench/result.hpp"

namespace packbench::drivers::zpl {

// What the station sends to ask; a printer acts on a ~ command as soon as it reads it.
inline constexpr std::string_view kHostStatusQuery = "~HS";

struct HostStatus {
  // string 1
  bool paper_out = false;
  bool paused = false;
  int label_length_dots = 0;
  int formats_in_buffer = 0;
  bool buffer_full = false;
  bool diagnostic_mode = false;
  bool partial_format = false;
  bool corrupt_ram = false;
  bool under_temperature = false;
  bool over_temperature = false;
  // string 2
  bool head_up = false;
  bool ribbon_out = false;
  bool thermal_transfer = false;
  int print_mode = 0;
  bool label_waiting = false;
  std::int64_t labels_remaining = 0;
  // string 3
  bool static_ram_installed = false;
};

// The longest answer taken: a real one is about 80 bytes. More is not a printer talking ~HS.
inline constexpr std::size_t kHostStatusMaxBytes = 512;

// Reads the bytes received so far: a value once the three strings are complete, nullopt while
// they may still be (a partial answer so far), an error naming what is wrong once they can no
// longer be a ~HS answer (a byte outside STX...ETX, a missing field, a flag other than 0 or 1).
// CR and LF between strings are skipped; bytes after the third ETX are ignored.
Result<std::optional<HostStatus>> parse_host_status(std::string_view bytes);

// The status a packer sees: fault with what to fix in words ("paper out, head open") when the
// printer cannot print; busy while its receive buffer is full; ready otherwise. `conditions`
// holds the same in fixed words (paper_out, head_open, ribbon_out, paused, head_too_hot,
// buffer_full) for the UI to translate.
DeviceStatus describe(const HostStatus& s);

}  // namespace packbench::drivers::zpl
