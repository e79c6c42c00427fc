#include <gtest/gtest.h>

#include "packbench/labels/text.hpp"
