#include "packbench/labels/png.hpp"
