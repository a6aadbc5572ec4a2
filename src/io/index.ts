/**
 * `llmforge/io`: the file formats underneath models and datasets: safetensors (read, stream, write), GGUF
 * (reader, writer, type enums) and llm.c token shards. A public entry point of the package only: code inside src
 * imports the module it needs, never this index.
 */
export {
  readSafetensors,
  parseSafetensors,
  serializeSafetensors,
  SafetensorsReader,
  withSafetensors,
  writeSafetensors,
  type TensorToWrite,
  type WeightDtype,
} from './safetensors.ts';
export { GgufReader, GgufFormatError, type GgufTensorInfo, type GgufMetaValue } from '../export/gguf/gguf-reader.ts';
export { writeGguf, type GgufTensorToWrite } from '../export/gguf/gguf-writer.ts';
export { GgmlType, GgufValueType, type GgufKv } from '../export/gguf/gguf-format.ts';
export { readLlmcShard, writeLlmcShard } from './llmc/llmc-shards.ts';
export { LlmcFormatError } from './llmc/llmc-format.ts';
