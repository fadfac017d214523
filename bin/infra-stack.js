#!/usr/bin/env node
import { main } from '../dist/src/cli/run.js';
import { infraStack } from '../dist/src/cli/infra-stack.js';

await main(infraStack);
