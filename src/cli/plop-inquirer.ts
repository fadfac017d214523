// Stands in for inquirer 9 in the bundled node-plop (scripts/build.js aliases `inquirer` here).
// node-plop only hands inquirer to a generator's prompts function; ours ask through
// Inquirer's own prompts (src/cli/prompt-library.ts), so inquirer 9 and rxjs are never shipped.
const registered: Record<string, unknown> = {};

function prompt(): never {
  throw new Error('node-plop: a generator here asks its questions in its prompts function, not through inquirer');
}

export default {
  prompt: Object.assign(prompt, { prompts: registered }),
  registerPrompt: (name: string, question: unknown) => {
    registered[name] = question;
  },
};
