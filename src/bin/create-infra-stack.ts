// Entry point of `create-infra-stack` (what `npm create infra-stack` runs), bundled into one file.
import { create } from '../cli/create.js';
import { main } from '../cli/run.js';

void main(create);
