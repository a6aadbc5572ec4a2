/**
 * `llmforge/chat`: conversations as the models see them: instruction and chat records (Alpaca fields or message
 * lists), prompt templates (Alpaca, ChatML, a model's own Jinja chat_template), encoding a record or a prompt into
 * token ids with the answer tokens marked, and a multi-turn chat session over a model. A public entry point of the
 * package only: code inside src imports the module it needs, never this index.
 */
export {
  loadSftRecords,
  parseSftRecord,
  toMessages,
  splitReference,
  type SftRecord,
  type ChatMessage,
} from './records.ts';
export {
  alpacaTemplate,
  chatmlTemplate,
  jinjaTemplate,
  loadModelTemplate,
  resolveTemplate,
  TEMPLATE_NAMES,
  type PromptTemplate,
  type Segment,
  type TemplateName,
} from './templates.ts';
export { encodeRecord, encodePrompt } from './encode.ts';
export { ChatSession, type ChatOptions } from './session.ts';
