#include <gtest/gtest.h>

#include "packbench/labels/png.hpp"
