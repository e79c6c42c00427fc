#include "packbench/labels/image.hpp"
