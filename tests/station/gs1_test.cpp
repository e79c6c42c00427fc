#include <gtest/gtest.h>

#include "station/gs1/gs1.hpp"
