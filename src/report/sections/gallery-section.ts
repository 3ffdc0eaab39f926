import { formatPercent } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { GalleryImage } from '../report-input.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A data: URI keeps the image inside the file; the signature check catches a JPEG passed by mistake. */
function pngDataUri(png: Uint8Array, where: string): string {
  if (!PNG_SIGNATURE.every((byte, i) => png[i] === byte)) {
    throw new Error(`report: gallery image for ${where} is not a PNG (convert it with sharp(...).png() first)`);
  }
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

function tile(image: GalleryImage): SafeHtml {
  const right = image.kind === 'most-confident-right';
  const verdict = right
    ? html`<strong>${image.trueClass}</strong>, ${formatPercent(image.confidence)}`
    : html`true <strong>${image.trueClass}</strong> \u2192 predicted <strong>${image.predictedClass}</strong>, ${formatPercent(image.confidence)}`;
  const alt = `${image.trueClass}: predicted ${image.predictedClass} at ${formatPercent(image.confidence)}`;
  return html`<figure class="tile ${right ? 'right' : 'wrong'}">
    <img src="${pngDataUri(image.png, alt)}" alt="${alt}">
    <figcaption class="caption">${verdict}${image.caption ? html`<br>${image.caption}` : null}</figcaption>
  </figure>`;
}

/** One block per true class, its confident hits first and then its confident mistakes. */
export function gallerySection(images: readonly GalleryImage[], classNames: readonly string[], mapName: string): SafeHtml {
  const body = images.length === 0
    ? html`<p class="empty">No explanation overlays were provided for this run.</p>`
    : classNames.map((name) => {
        const own = images.filter((image) => image.trueClass === name);
        if (own.length === 0) return null;
        const right = own.filter((image) => image.kind === 'most-confident-right');
        const wrong = own.filter((image) => image.kind === 'most-confident-wrong');
        return html`<div class="gallery-class"><h3>${name}</h3><div class="gallery-row">
          ${right.map(tile)}${wrong.map(tile)}
          ${wrong.length === 0 ? html`<p class="empty">No misclassified ${name} images in this split.</p>` : null}
        </div></div>`;
      });
  return html`<section id="gallery">
  <h2>Explanation overlays: ${mapName}</h2>
  <p>For each true class: the images the model got right with the highest confidence (green edge) and those it got wrong with the highest confidence (red edge). Each shows the image as the model saw it beside the same image with the map overlaid, and the colour scale: colour appears only where the map is high, so the cell stays visible where the map is low. Overlays show which pixels drove the call, as ${mapName} measures it; they show where, not why.</p>
  ${body}
</section>`;
}
