import { html, type SafeHtml } from '../html.js';

export function configSection(config: unknown): SafeHtml {
  return html`<section id="config">
  <h2>Run configuration</h2>
  <p>The run's <code>config.json</code>, as used for training.</p>
  <pre class="config">${JSON.stringify(config, null, 2) ?? 'null'}</pre>
</section>`;
}
