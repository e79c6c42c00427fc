#include <gtest/gtest.h>

#include "packbench/labels/zpl_graphic.hpp"
