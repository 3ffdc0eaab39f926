import { createHash } from 'node:crypto';

/** SHA-256 of the file's bytes: identifies an image by content, whatever its name or folder. */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
