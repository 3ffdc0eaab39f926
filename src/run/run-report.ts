// What `aplnet evaluate` leaves in the run folder: metrics.json (every number) and report.html
// (the same numbers for people, with training curves and a gallery of explanation panels).
import { basename, resolve } from 'node:path';
import { describeFraming } from '../data/index.js';
import { defaultExplainMethod, type ExplainMethod } from '../explain/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/index.js';
import { buildReportHtml, metricsSummary, selectGalleryCases, type DataCredit, type GalleryImage, type ReportCase, type TrainingCurveRow } from '../report/index.js';
import { readMetricsLog, runPath } from '../train/index.js';
import { CASE_CALL_SOURCE_TITLES } from './case-summary.js';
import type { RunEvaluation } from './evaluate-run.js';
import type { EvaluatedCase } from './evaluated-cases.js';
import { predictImages } from './predict-images.js';
import { panelPng } from './prediction-images.js';
import type { LoadedRun } from './load-run.js';

export function writeMetricsJson(path: string, run: LoadedRun, evaluation: RunEvaluation): void {
  writeJsonAtomic(path, {
    run: resolve(run.dir),
    evaluatedAt: new Date().toISOString(),
    data: evaluation.set.data,
    split: evaluation.set.splitName,
    countsBySplit: evaluation.set.countsBySplit,
    patientsBySplit: evaluation.set.patientsBySplit ?? null,
    skipped: evaluation.set.skipped.length,
    temperature: {
      value: evaluation.calibrated.temperature,
      fittedOn: evaluation.temperatureSource,
      fit: evaluation.temperatureFit ?? null,
    },
    /** The headline figures with their 95% bootstrap intervals, as the report shows them. */
    summary: metricsSummary(evaluation.calibrated),
    uncalibrated: evaluation.uncalibrated,
    calibrated: evaluation.calibrated,
  });
}

/** How the report names each map in words. */
const MAP_TITLES: Record<ExplainMethod, string> = {
  'attention-pool': "the model's attention-pooling map (attention-pool), the weights its class scores are summed with",
  'attention-grad': 'gradient-weighted attention (attention-grad)',
  attention: 'raw spatial attention (attention)',
  gradcam: 'Grad-CAM (gradcam)',
  'gradcam++': 'Grad-CAM++ (gradcam++)',
  evidence: "the attention-pooling head's evidence for the called class (evidence), each position's exact share of the class's score margin",
};

/** The most confident right and wrong images of each class, each drawn as the explanation panel predict writes. */
async function attentionGallery(run: LoadedRun, evaluation: RunEvaluation, perClass: number): Promise<GalleryImage[]> {
  const { paths, labels, calibratedProbs } = evaluation.images;
  const cases = selectGalleryCases(calibratedProbs, labels, run.classNames.length, perClass);
  // The gallery draws the map predict and serve show by default for this model.
  const map = defaultExplainMethod(run.model);
  const predictions = await predictImages(run, cases.map((c) => paths[c.index]), { maps: [map] });
  const gallery: GalleryImage[] = [];
  for (const [i, c] of cases.entries()) {
    const prediction = predictions[i];
    if (!prediction.ok) continue;
    gallery.push({
      png: await panelPng(prediction, map),
      kind: c.kind,
      trueClass: run.classNames[c.trueClass],
      predictedClass: run.classNames[c.predictedClass],
      confidence: c.confidence,
      caption: basename(paths[c.index]),
    });
  }
  return gallery;
}

function trainingCurves(run: LoadedRun): TrainingCurveRow[] {
  return readMetricsLog(runPath(run.dir, 'metricsLog')).map((row) => ({
    epoch: row.epoch,
    train_loss: row.train_loss,
    val_loss: row.val_loss ?? null,
    train_acc: row.train_acc ?? null,
    val_acc: row.val_acc ?? null,
    val_macro_f1: row.val_macro_f1 ?? null,
    lr: row.lr,
  }));
}

/** A case summary as the report shows it: the source in words, counts in the run's class order. */
function reportCase({ summary, truth, trueDifferential }: EvaluatedCase): ReportCase {
  const { call, differential, ranked: _ranked, caseId, ...counts } = summary;
  return {
    ...counts,
    caseId: caseId ?? '(unnamed)',
    truth,
    call: call && { label: call.label, probability: call.probability, source: CASE_CALL_SOURCE_TITLES[call.source], threshold: call.threshold },
    differential: differential.map((d) => d.count),
    trueDifferential: truth === null ? trueDifferential : null,
  };
}

export async function writeRunReport(path: string, run: LoadedRun, evaluation: RunEvaluation, { credits = [], galleryPerClass = 2, cases = [] }: { credits?: DataCredit[]; galleryPerClass?: number; cases?: EvaluatedCase[] } = {}): Promise<void> {
  const page = await buildReportHtml({
    runName: basename(resolve(run.dir)),
    generatedAt: new Date().toISOString(),
    dataset: {
      name: basename(resolve(evaluation.set.data)),
      classNames: run.classNames,
      countsBySplit: evaluation.set.countsBySplit,
      patientsBySplit: evaluation.set.patientsBySplit,
      credits,
    },
    trainingCurves: trainingCurves(run),
    evaluation: {
      splitName: evaluation.set.splitName === 'all' ? `all images of ${basename(resolve(evaluation.set.data))}` : evaluation.set.splitName,
      uncalibrated: evaluation.uncalibrated,
      calibrated: evaluation.calibrated,
      temperatureFit: evaluation.temperatureFit,
    },
    gallery: await attentionGallery(run, evaluation, galleryPerClass),
    galleryMap: MAP_TITLES[defaultExplainMethod(run.model)],
    config: run.config,
    modelCard: { modelName: run.config.model.name, framing: describeFraming(run.inference.preprocessing), oodCheck: run.ood ? { validationFlagged: run.ood.record.validationFlagged } : null },
    cases: cases.map(reportCase),
  });
  writeFileAtomic(path, page);
}
