/**
 * `llmforge/serve`: an OpenAI-compatible HTTP server (completions and chat completions, streaming) over a loaded
 * model. A public entry point of the package only: code inside src imports the module it needs, never this index.
 */
export { createApiServer, type ApiServer, type ServeOptions } from './server.ts';
