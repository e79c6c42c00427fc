#include <gtest/gtest.h>

#include "packbench/labels/pdf.hpp"
