#!/usr/bin/env lua
﻿return { database = "x" }
