#include "packbench/labels/zpl_graphic.hpp"
