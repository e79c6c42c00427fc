#include "packbench/labels/pdf.hpp"
