// aplnet's explanations: one call for every method, drawing kept apart, faithfulness measured.
export { explain, EXPLAIN_METHODS, type ExplainMethod, type ExplainOptions } from './explain.js';
export { resolveTargets, type ExplainTarget } from './targets.js';
export { attentionExplanation, combineAttentionMaps } from './attention-maps.js';
export { attentionGradientExplanation } from './attention-gradient.js';
export { gradCamExplanation, type GradCamVariant } from './grad-cam.js';
export { normalizePerImage } from './normalize-map.js';
export { heatMapOf, resizeHeatMap, type HeatMap } from './heat-map.js';
export { renderOverlay, renderHeatmap, type RgbImage, type OverlayOptions } from './overlay.js';
export { colormapTable, COLORMAPS, type ColormapName } from './colormaps.js';
export { contourMask } from './contour.js';
export { faithfulnessCurve, deletionCurve, insertionCurve, type FaithfulnessCurve, type FaithfulnessMode, type FaithfulnessOptions } from './faithfulness.js';
export { trapezoidAuc } from './auc.js';
export { blurImages } from './blur.js';
export { randomMaps } from './random-maps.js';
export { predictAndExplain, type PredictionOverlay, type PredictionWithMaps } from './predict-and-explain.js';
