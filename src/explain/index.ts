// aplnet's explanations: one call for every method, drawing kept apart, faithfulness measured.
export { explain, EXPLAIN_METHODS, checkExplainMethods, type ExplainMethod, type ExplainOptions, type MapOptions } from './explain.js';
export { captureActivationsAndGradients, type CaptureRequest, type CapturedPass, type Captured } from './capture.js';
export { resolveTargets, type ExplainTarget } from './targets.js';
export { combineAttentionMaps } from './attention-maps.js';
export { weightedAttention } from './attention-gradient.js';
export { camFromGradients, type GradCamVariant } from './grad-cam.js';
export { normalizePerImage } from './normalize-map.js';
export { zeroNonFiniteMaps, type FiniteMaps } from './finite-maps.js';
export { heatMapOf, resizeHeatMap, type HeatMap } from './heat-map.js';
export { renderOverlay, renderHeatmap, type RgbImage, type OverlayOptions } from './overlay.js';
export { colormapTable, COLORMAPS, type ColormapName } from './colormaps.js';
export { contourMask } from './contour.js';
export { faithfulnessCurve, deletionCurve, insertionCurve, type FaithfulnessCurve, type FaithfulnessMode, type FaithfulnessOptions } from './faithfulness.js';
export { trapezoidAuc } from './auc.js';
export { blurImages } from './blur.js';
export { randomMaps } from './random-maps.js';
export { predictAndExplain, type PredictionWithMaps } from './predict-and-explain.js';
