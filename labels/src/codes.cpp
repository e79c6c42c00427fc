#include "packbench/labels/codes.hpp"
