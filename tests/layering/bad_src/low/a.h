#pragma once
// A lower folder reaching up: what the layering check must refuse.
#include "high/b.h"
