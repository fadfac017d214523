#!/usr/bin/env node
// Node 22.1+ keeps compiled code between runs (a faster start); older Node has no such call.
import module from 'node:module';
module.enableCompileCache?.();
import { main } from '../dist/src/cli/run.js';
import { create } from '../dist/src/cli/create.js';

await main(create);
