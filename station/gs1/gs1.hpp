// GS1: reading what a scanner sent as GS1 data (element strings, Digital Link URIs, plain GTINs).
#pragma once

namespace packbench::station::gs1 {}  // namespace packbench::station::gs1
