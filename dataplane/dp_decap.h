/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DP_DECAP_H
#define DP_DECAP_H
#include "dp_decode.h"
#endif
