// Writes schema.graphql at the project root from the code.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { buildTesseraSchema, renderSchemaFile } from '../graphql/schema.js';

writeFileSync('schema.graphql', renderSchemaFile(await buildTesseraSchema()));
console.log('wrote schema.graphql');
