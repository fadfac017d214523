// The prompts this CLI asks with (Inquirer's), loaded only when a question is asked
// (dist/lazy/prompts.js). Each from its own package: @inquirer/prompts would bring every prompt,
// its editor prompt with iconv-lite (~0.5 MB) too.
export { default as confirm } from '@inquirer/confirm';
export { default as input } from '@inquirer/input';
export { default as select } from '@inquirer/select';
