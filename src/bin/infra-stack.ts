// Entry point of `infra-stack` (add service, update), bundled into one file.
import { infraStack } from '../cli/infra-stack.js';
import { main } from '../cli/run.js';

void main(infraStack);
