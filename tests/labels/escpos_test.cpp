#include <gtest/gtest.h>

#include "packbench/labels/escpos.hpp"
