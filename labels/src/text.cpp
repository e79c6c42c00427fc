#include "packbench/labels/text.hpp"
