import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  const embedded = globalThis.__TESSERA_EMBEDDED__;
  if (!embedded) return;
  await embedded.stop();
  rmSync(embedded.dataDir, { recursive: true, force: true });
}
