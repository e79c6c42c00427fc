#include <gtest/gtest.h>

#include "packbench/labels/image.hpp"
