/**
 * Why a file or a dataset could not be used. The reason is a stable code so that summaries can
 * count by it and tests can assert on it; the message is for people.
 */
export type DataErrorReason =
  | 'missing-file'
  | 'unreadable'
  | 'not-a-file'
  | 'dangling-symlink'
  | 'symlink-loop'
  | 'empty-file'
  | 'not-an-image'
  | 'unsupported-format'
  | 'corrupt'
  | 'truncated'
  | 'too-small'
  | 'too-large'
  | 'unknown-label'
  | 'duplicate'
  | 'duplicate-across-splits'
  | 'label-conflict'
  | 'empty-class'
  | 'bad-manifest'
  | 'bad-split'
  | 'patient-in-two-splits'
  | 'bad-cache'
  | 'bad-config';

/** Reasons that concern one image file and so may be skipped with `onBadImage: 'skip'`. */
export const skippableReasons: ReadonlySet<DataErrorReason> = new Set<DataErrorReason>([
  'missing-file',
  'unreadable',
  'not-a-file',
  'dangling-symlink',
  'symlink-loop',
  'empty-file',
  'not-an-image',
  'unsupported-format',
  'corrupt',
  'truncated',
  'too-small',
  'too-large',
  'unknown-label',
  'duplicate',
  'duplicate-across-splits',
]);

export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(
    /** The file (image, manifest, split or cache file) the problem is about. */
    readonly file: string,
    readonly reason: DataErrorReason,
    /** What happened and what to do, without the file and reason that the message adds. */
    readonly detail: string,
  ) {
    super(`${file}: ${reason}: ${detail}`);
  }
}

export function isDataError(value: unknown): value is DataError {
  return value instanceof DataError;
}
