// Who to credit for a dataset's images: given by the user, or found in the dataset's own folder.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataCredit } from './report-input.js';

/** The public PBC dataset, from which aplnet's test and demo images come. */
export const PBC_CREDIT: DataCredit = {
  citation: 'Acevedo A, Merino A, Alférez S, Molina Á, Boldú L, Rodellar J. A dataset of microscopic peripheral blood cell images for development of automatic recognition systems. Data in Brief 30:105474 (2020)',
  doi: '10.1016/j.dib.2020.105474',
  license: 'CC BY 4.0',
};

const CREDIT_FILES = ['CREDITS', 'CREDITS.md', 'CREDITS.txt', 'ATTRIBUTION.md', 'README.md', 'README.txt', 'README'];
const MAX_CITATION_CHARS = 600;

/** Text that names the PBC dataset (its authors or its Mendeley/CellaVision origin). */
function mentionsPbc(text: string): boolean {
  return /Acevedo/.test(text) && /(Data in Brief|105474|PBC)/i.test(text);
}

/**
 * Credits for a dataset folder or manifest: a CREDITS (or README) file in its folder, or else in
 * the folder above (where a collection of datasets keeps its notes), is read; one
 * naming the PBC dataset gives the full PBC citation, any other CREDITS file is quoted as it is.
 * A README that is not about credit is not quoted.
 */
export function detectDataCredits(dataPath: string): DataCredit[] {
  const folder = existsSync(dataPath) && statSync(dataPath).isDirectory() ? dataPath : dirname(dataPath);
  for (const dir of [folder, dirname(folder)]) {
    for (const name of CREDIT_FILES) {
      const path = join(dir, name);
      if (!existsSync(path) || !statSync(path).isFile()) continue;
      const text = readFileSync(path, 'utf8');
      if (mentionsPbc(text)) return [PBC_CREDIT];
      if (name.startsWith('CREDITS') || name.startsWith('ATTRIBUTION')) {
        const quoted = text.trim().replace(/\s+/g, ' ');
        if (quoted) return [{ citation: quoted.length > MAX_CITATION_CHARS ? `${quoted.slice(0, MAX_CITATION_CHARS)}…` : quoted }];
      }
    }
  }
  return [];
}
