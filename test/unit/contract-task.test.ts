import { describe, expect, it } from 'vitest';
import {
  MODELS,
  parseLossless,
  providerTaskSchema,
  SEED_MAX,
  stringifyLossless,
  validateTaskInput,
} from '../../src/contract/index.js';
import { ValidationError } from '../../src/errors.js';

const base = { positivePrompt: 'a red fox in snow', width: 1024, height: 1024 };

function issuesOf(input: unknown) {
  try {
    validateTaskInput(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
}

describe('task contract for bfl:3@1', () => {
  it('accepts a minimal task and fills the model', () => {
    expect(validateTaskInput(base)).toMatchObject({ model: 'bfl:3@1', width: 1024 });
  });

  it.each(MODELS['bfl:3@1']!.sizes)('accepts the allowed size $label', ({ width, height }) => {
    expect(() => validateTaskInput({ ...base, width, height })).not.toThrow();
  });

  it('rejects a size pair outside the table and names the allowed ones', () => {
    const [issue] = issuesOf({ ...base, width: 1024, height: 768 });
    expect(issue).toMatchObject({ path: 'width', rule: 'size_pair' });
    expect(issue!.message).toContain('1568×672');
  });

  it.each([
    ['positivePrompt', { positivePrompt: 'a' }, 'min'],
    ['positivePrompt', { positivePrompt: 'x'.repeat(3001) }, 'max'],
    ['outputQuality', { outputQuality: 19 }, 'min'],
    ['outputQuality', { outputQuality: 100 }, 'max'],
    ['outputQuality', { outputQuality: 50.5 }, 'type'],
    ['numberResults', { numberResults: 0 }, 'min'],
    ['numberResults', { numberResults: 21 }, 'max'],
    ['ttl', { ttl: 59 }, 'min'],
    ['outputType', { outputType: 'url' }, 'enum'],
    ['outputFormat', { outputFormat: 'GIF' }, 'enum'],
    ['safety.mode', { safety: { mode: 'full' } }, 'enum'],
    ['safety.checkContent', { safety: { checkContent: 'yes' } }, 'type'],
    ['providerSettings.bfl.safetyTolerance', { providerSettings: { bfl: { safetyTolerance: 7 } } }, 'max'],
    ['providerSettings.bfl.raw', { providerSettings: { bfl: { raw: true } } }, 'unknown_key'],
    ['inputs.referenceImages', { inputs: { referenceImages: [] } }, 'min'],
    ['steps', { steps: 20 }, 'unknown_key'],
    ['webhookURL', { webhookURL: 'https://x.test/' }, 'type'],
    ['taskUUID', { taskUUID: 'not-a-uuid' }, 'format'],
    ['seed', { seed: -1 }, 'seed'],
    ['seed', { seed: '9223372036854775808' }, 'seed'],
    ['seed', { seed: 2 ** 60 }, 'seed'],
    ['seed', { seed: '-0' }, 'seed'],
    ['seed', { seed: -0 }, 'seed'],
  ])('rejects a bad %s (%j) with rule %s', (path, patch, rule) => {
    const issues = issuesOf({ ...base, ...patch });
    expect(issues).toContainEqual(expect.objectContaining({ path, rule }));
  });

  it('rejects 3 reference images for a model that takes 2', () => {
    const refs = ['https://a.test/1.png', 'https://a.test/2.png', 'https://a.test/3.png'];
    expect(issuesOf({ ...base, inputs: { referenceImages: refs } })).toContainEqual(
      expect.objectContaining({ path: 'inputs.referenceImages', rule: 'max' }),
    );
  });

  it('reports every bad field at once, one message per field', () => {
    const issues = issuesOf({ ...base, positivePrompt: 'a', outputQuality: 5, foo: 1 });
    expect(issues.map((i) => i.path).sort()).toEqual(['foo', 'outputQuality', 'positivePrompt']);
  });

  it('accepts seeds as integer, bigint and decimal string up to 2^63-1', () => {
    expect(validateTaskInput({ ...base, seed: 0 }).seed).toBe('0');
    expect(validateTaskInput({ ...base, seed: SEED_MAX }).seed).toBe('9223372036854775807');
    expect(validateTaskInput({ ...base, seed: '9223372036854775807' }).seed).toBe('9223372036854775807');
  });

  it('normalises outputFormat case for users but not on the wire', () => {
    expect(validateTaskInput({ ...base, outputFormat: 'jpeg' }).outputFormat).toBe('JPG');
    const wire = providerTaskSchema.safeParse({
      ...base,
      taskType: 'imageInference',
      taskUUID: '3b0c2f5e-6a9d-4a51-9d0e-2f7f1c9a2b11',
      model: 'bfl:3@1',
      outputFormat: 'jpg',
    });
    expect(wire.success).toBe(false);
  });
});

describe('lossless JSON for wide integers', () => {
  it('writes a seed of 2^63-1 as a bare integer with all its digits', () => {
    const text = stringifyLossless([{ seed: '9223372036854775807', positivePrompt: '"seed":"1"' }]);
    expect(text).toBe('[{"seed":9223372036854775807,"positivePrompt":"\\"seed\\":\\"1\\""}]');
  });

  it('reads a wide seed back as its exact decimal string, leaving strings alone', () => {
    const v = parseLossless('{"data":[{"seed":9223372036854775807,"note":"\\"seed\\": 5"}]}') as {
      data: { seed: string; note: string }[];
    };
    expect(v.data[0]).toEqual({ seed: '9223372036854775807', note: '"seed": 5' });
  });
});
