#!/usr/bin/env node
// Node 22.1+ keeps compiled code between runs (a faster start); older Node has no such call.
import module from 'node:module';
module.enableCompileCache?.();
import { main } from '../dist/src/cli/run.js';
import { infraStack } from '../dist/src/cli/infra-stack.js';

await main(infraStack);
