export const splitNames = ['train', 'val', 'test'] as const;
export type SplitName = (typeof splitNames)[number];

export function isSplitName(value: string): value is SplitName {
  return (splitNames as readonly string[]).includes(value);
}
