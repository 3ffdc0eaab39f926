export { writeFileAtomic, writeFileAtomicAsync, type AtomicWriteOptions } from './atomic-write.js';
export { readJson, writeJsonAtomic } from './json.js';
