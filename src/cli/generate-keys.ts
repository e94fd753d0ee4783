// npm run keys:generate -- --alg ES256|RS256|PS256|EdDSA
// Prints a new signing key to stdout, for an operator to store in a secret manager: the private
// key (JWT_PRIVATE_KEY), its public key (JWT_PREVIOUS_PUBLIC_KEYS once it is rotated out) and its kid.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { jwkThumbprint } from '../auth/keys.js';
import { generatePrivateKeyPem, JWT_ALGORITHMS, type AsymmetricAlgorithm } from '../config.js';
import { runCommand } from './run-command.js';

const ALGORITHMS = JWT_ALGORITHMS.filter((algorithm): algorithm is AsymmetricAlgorithm => algorithm !== 'HS256');
const USAGE = `usage: npm run keys:generate -- --alg ${ALGORITHMS.join('|')}`;

function isAlgorithm(value: string | undefined): value is AsymmetricAlgorithm {
  return (ALGORITHMS as readonly string[]).includes(value ?? '');
}

/** Comment lines say which block is which, so that the output can be pasted as it is. */
function renderKey(algorithm: AsymmetricAlgorithm, privateKeyPem: string): string {
  const publicKey = createPublicKey(createPrivateKey(privateKeyPem));
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return [
    `# A new ${algorithm} signing key for Tessera (JWT_ALGORITHM=${algorithm}).`,
    `# kid: ${jwkThumbprint(publicKey)}`,
    '# JWT_PRIVATE_KEY (PKCS#8 PEM, keep it secret):',
    privateKeyPem.trimEnd(),
    '# Public key (SPKI PEM): list it in JWT_PREVIOUS_PUBLIC_KEYS after the next rotation.',
    publicKeyPem.trimEnd(),
    '',
  ].join('\n');
}

function main(): number {
  // An unknown or malformed option throws, and runCommand answers it with the usage and 64.
  const { values } = parseArgs({ options: { alg: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!isAlgorithm(values.alg)) {
    console.error(`${values.alg === undefined ? '--alg is required' : `unknown algorithm ${values.alg}`}\n${USAGE}`);
    return 64;
  }
  process.stdout.write(renderKey(values.alg, generatePrivateKeyPem(values.alg)));
  return 0;
}

// Called inside a promise, so that a bad option's throw reaches runCommand as a rejection.
runCommand(() => new Promise<number>((resolve) => resolve(main())), USAGE);
