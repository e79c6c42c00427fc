#include <gtest/gtest.h>

#include "packbench/labels/codes.hpp"
