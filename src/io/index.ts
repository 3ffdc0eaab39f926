export { writeFileAtomic, writeFileAtomicAsync, removeStaleTempFiles, type AtomicWriteOptions } from './atomic-write.js';
export { readJson, writeJsonAtomic } from './json.js';
export { acquireRunLock, LOCK_FILE, type RunLock } from './run-lock.js';
