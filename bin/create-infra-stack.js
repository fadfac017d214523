#!/usr/bin/env node
import { main } from '../dist/src/cli/run.js';
import { create } from '../dist/src/cli/create.js';

await main(create);
