#include "station/gs1/gs1.hpp"
