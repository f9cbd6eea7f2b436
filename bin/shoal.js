#!/usr/bin/env node
// The `shoal` command: a thin launcher for the compiled CLI.
import('../dist/src/cli/main.js');
