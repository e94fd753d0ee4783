// .env.example documents every setting with its default: each value it shows must be the one
// loadConfig uses when the variable is unset, or a copied example silently changes behaviour.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfig, type Env } from '../../src/config.js';

interface ExampleEntry {
  name: string;
  value: string;
}

function parseEnvExample(text: string): ExampleEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!match) throw new Error(`not a NAME=value line in .env.example: ${line}`);
      // A comment starts at whitespace followed by #; values themselves contain neither.
      return { name: match[1], value: match[2].replace(/\s+#.*$/, '').trim() };
    });
}

const entries = parseEnvExample(readFileSync('.env.example', 'utf8'));
const configSource = readFileSync('src/config.ts', 'utf8');
// A fixed secret keeps loadConfig from generating one in the data folder.
const base: Env = { JWT_SECRET_KEY: randomBytes(48).toString('base64url') };
const defaults = loadConfig(base).config;

test('.env.example lists settings that the configuration actually reads', () => {
  expect(entries.length).toBeGreaterThan(30);
  for (const { name } of entries)
    expect({ name, read: configSource.includes(`'${name}'`) }).toEqual({ name, read: true });
});

test.each(entries.filter((entry) => entry.value !== ''))(
  '.env.example shows $name=$value, the value the configuration uses when it is unset',
  ({ name, value }) => {
    expect(loadConfig({ ...base, [name]: value }).config).toEqual(defaults);
  },
);

// An empty value stands for "unset": the default is derived (cores, environment, embedded database).
test.each(entries.filter((entry) => entry.value === '' && entry.name !== 'JWT_SECRET_KEY'))(
  '.env.example leaves $name empty, which the configuration treats as unset',
  ({ name }) => {
    expect(loadConfig({ ...base, [name]: '' }).config).toEqual(defaults);
  },
);

test('.env.example leaves JWT_SECRET_KEY empty, so no shared secret is ever copied from it', () => {
  expect(entries.find((entry) => entry.name === 'JWT_SECRET_KEY')).toEqual({ name: 'JWT_SECRET_KEY', value: '' });
});
