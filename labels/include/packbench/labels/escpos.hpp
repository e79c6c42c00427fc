// Placeholder: filled in by the labels work in progress.
#pragma once
#include "packbench/labels/bitmap.hpp"
