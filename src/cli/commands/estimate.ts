/**
 * `llmforge estimate`: compute, time, cost and memory of a pretraining run before paying for it. Takes a parameter
 * count (or a model preset/directory, whose shape adds the attention FLOPs), a token count and a device from the
 * hardware table, and prints training FLOPs, device-hours, wall time, cost and the memory the training state needs,
 * followed by every assumption (peak throughput, MFU, price). `--json` prints one JSON object.
 */
import { flopsPerToken, countParameters } from '../../models/flops.ts';
import { BYTES_PER_PARAM, estimateTraining, HARDWARE, type EstimateInput, type Precision } from '../../models/cost.ts';
import { formatBytes, formatCount, formatFlops, formatSeconds, formatShort } from '../../models/units.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { collectOverrides, modelConfigFrom } from './info.ts';

function money(x: number): string {
  if (x >= 1e6) return `$${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `$${(x / 1e3).toFixed(1)}K`;
  return `$${x.toFixed(2)}`;
}

function hardwareTable(): string[] {
  const rows = [['id', 'device', 'peak 16-bit', 'peak fp32', 'memory', '$/hour', 'note']];
  for (const [id, h] of Object.entries(HARDWARE)) {
    rows.push([
      id,
      h.name,
      formatFlops(h.peak16, 'FLOP/s'),
      formatFlops(h.peak32, 'FLOP/s'),
      formatBytes(h.memoryBytes),
      h.pricePerHour.toFixed(2),
      h.note,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

export const estimateCommand: Command = {
  spec: {
    name: 'estimate',
    summary: 'Training compute, time, cost and memory for a model size, token count and hardware',
    usage:
      'llmforge estimate (--params N | --model <preset|dir> [--set key=value ...]) --tokens D [--hardware a100|h100|v100|cpu] [--mfu 0.4] [--gpus N] [--price-per-hour X] [--json]',
    options: {
      params: { type: 'number', count: true, help: 'Parameter count N, e.g. 175e9 or 175B', arg: 'N' },
      model: {
        type: 'string',
        help: 'A preset or model directory instead of --params (adds the attention FLOPs)',
        arg: 'NAME|DIR',
      },
      set: {
        type: 'string',
        help: 'With --model: override a config field; more key=value arguments may follow',
        arg: 'KEY=VALUE',
        repeatable: true,
      },
      tokens: { type: 'number', count: true, help: 'Training tokens D, e.g. 300e9 or 300B', arg: 'D' },
      hardware: { type: 'string', help: `Device: ${Object.keys(HARDWARE).join(', ')}`, default: 'a100', arg: 'NAME' },
      mfu: {
        type: 'number',
        help: 'Model FLOPs utilization: the fraction of peak a real run achieves',
        default: 0.4,
        arg: 'F',
      },
      gpus: {
        type: 'number',
        help: 'Devices in parallel (default: the fewest that hold the training state)',
        arg: 'N',
      },
      'price-per-hour': { type: 'number', help: "Price per device-hour in $ (default: the table's)", arg: 'X' },
      precision: {
        type: 'string',
        help: 'bf16 (mixed precision; fp16 on v100) or fp32 (default: bf16 on GPUs, fp32 on cpu)',
        arg: 'P',
      },
      json: { type: 'boolean', help: 'Print one JSON object' },
    },
    details: [
      'Examples:',
      '  llmforge estimate --params 175e9 --tokens 300e9 --hardware v100 --mfu 0.3     # GPT-3',
      '  llmforge estimate --model gpt2-124m --tokens 10e9 --hardware h100 --gpus 8',
      '  llmforge estimate --model toy --tokens 2e6 --hardware cpu',
      '',
      'Hardware (assumptions: peak dense throughput, memory, rental price):',
      ...hardwareTable(),
    ].join('\n'),
  },
  run(args) {
    const o = args.options;
    const tokens = o.tokens as number | undefined;
    if (tokens === undefined)
      throw new UsageError('estimate: --tokens is required (e.g. --tokens 300e9); see `llmforge estimate --help`');
    if ((o.params === undefined) === (o.model === undefined))
      throw new UsageError('estimate: give exactly one of --params N or --model <preset|dir>');
    const precision = o.precision as string | undefined;
    if (precision !== undefined && precision !== 'bf16' && precision !== 'fp32')
      throw new UsageError(`estimate: --precision must be bf16 or fp32, received "${precision}"`);
    const input: EstimateInput = { params: 0, tokens, hardware: o.hardware as string, mfu: o.mfu as number };
    let shape = '';
    if (typeof o.model === 'string') {
      const { config: cfg, source } = modelConfigFrom('estimate', o.model, collectOverrides('estimate', args));
      input.params = countParameters(cfg).total;
      input.flopsPerToken = flopsPerToken(cfg).training;
      shape = `${source}: ${cfg.nLayer} layers, width ${cfg.nEmbd}, context ${cfg.blockSize}`;
    } else {
      if (args.positionals.length > 0 || o.set !== undefined)
        throw new UsageError('estimate: key=value overrides need --model');
      input.params = o.params as number;
    }
    if (o.gpus !== undefined) input.devices = o.gpus as number;
    if (o['price-per-hour'] !== undefined) input.pricePerHour = o['price-per-hour'] as number;
    if (precision !== undefined) input.precision = precision as Precision;
    const e = estimateTraining(input);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ...e, model: shape || null, bytesPerParam: BYTES_PER_PARAM })}\n`);
      return;
    }
    const out = [
      `training run: ${formatShort(e.params)} parameters (${formatCount(e.params)}) x ${formatShort(e.tokens)} tokens${shape ? `  [${shape}]` : ''}`,
      `  compute      ${formatFlops(e.flops)}  = ${e.flopsFormula}${shape ? '' : ' (attention FLOPs not included: pass --model for a known shape)'}`,
      `  device       ${e.hardwareName}, ${e.format} peak ${formatFlops(e.peak, 'FLOP/s')} x MFU ${e.mfu} = ${formatFlops(e.achieved, 'FLOP/s')} each`,
      `  device time  ${e.deviceHours < 100 ? e.deviceHours.toPrecision(3) : formatCount(e.deviceHours)} device-hours`,
      `  wall time    ${formatSeconds(e.wallSeconds)} on ${e.devices} device(s)${o.gpus === undefined ? ' (the fewest that hold the training state; --gpus N to change)' : ''}`,
      `  cost         ${money(e.cost)} at $${e.pricePerHour.toFixed(2)} per device-hour`,
      `  memory       ${formatBytes(e.stateBytes)} of training state (${BYTES_PER_PARAM} bytes/parameter: weights, gradients, AdamW moments); ` +
        `${e.devicesToHold} device(s) of ${formatBytes(HARDWARE[e.hardware]!.memoryBytes)} just to hold it, activations extra`,
      `  for scale    compute-optimal data for this size is about ${formatShort(e.chinchillaTokens)} tokens (Chinchilla: ~20 per parameter)`,
      '',
      'assumptions:',
      `  MFU ${e.mfu} of peak dense throughput (0.3-0.5 is typical of large well-tuned runs; small models and CPUs often reach less);`,
      '  training FLOPs = 3 x forward; 16 bytes/parameter = 2 (16-bit weights) + 2 (gradients) + 4 (fp32 master) + 8 (Adam moments),',
      '  the same 16 in plain fp32 (4 + 4 + 8); prices are assumed on-demand rental rates, not quotes.',
      ...hardwareTable(),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
