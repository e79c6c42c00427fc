#include "packbench/labels/escpos.hpp"
