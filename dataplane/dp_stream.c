/* SPDX-License-Identifier: BSD-3-Clause */
#include "dp_stream.h"
