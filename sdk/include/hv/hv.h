/* SPDX-License-Identifier: MIT */
/* hv SDK: everything a plugin includes. */
#ifndef HV_HV_H
#define HV_HV_H

#include "hv/config.h"
#include "hv/host.h"
#include "hv/device.h"
#include "hv/disk.h"
#include "hv/net.h"
#include "hv/console.h"
#include "hv/pci.h"
#include "hv/post.h"
#include "hv/dma.h"
#include "hv/devmem.h"
#include "hv/out.h"
#include "hv/display.h"
#include "hv/input.h"
#include "hv/plugin.h"

#endif
