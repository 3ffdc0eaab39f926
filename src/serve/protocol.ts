// Messages between the server (main thread) and the inference worker. Only plain data crosses:
// libtorch tensors live and die inside the worker that created them. A result is the prediction
// core's own result type (src/run), with the pixels and maps drawn as PNGs for the page.
import { EXPLAIN_METHODS, type ExplainMethod } from '../explain/index.js';
import type { CaseSummary, ImageFailure, ImagePrediction } from '../run/index.js';

/** Maps the page may ask for, by explain's names (the default ones depend on the model: ModelInfo.defaultMaps). */
export const OVERLAY_METHODS: readonly ExplainMethod[] = EXPLAIN_METHODS;
export type OverlayMethod = ExplainMethod;

export interface WorkerInit {
  runDir: string;
  device: string;
  /** Images with more pixels than this are refused before decoding. */
  maxInputPixels: number;
  threads?: number;
}

export interface PredictRequest {
  type: 'predict';
  id: number;
  images: { name: string; bytes: Uint8Array }[];
  overlays: OverlayMethod[];
}

/** A prediction as a case keeps it: the core's result without the pixels and maps (kept as PNGs beside it). */
export type StoredPrediction = Omit<ImagePrediction, 'pixels' | 'maps' | 'side'>;
export type StoredResult = StoredPrediction | ImageFailure;

/** Asks for the case summary of results already predicted (the run's case level lives in the worker). */
export interface SummarizeRequest {
  type: 'summarize';
  id: number;
  results: StoredResult[];
  /** Null for a request that is not an open case (POST /api/predict). */
  caseId: string | null;
  maxFlaggedShare: number;
}

export type ServedPrediction = StoredPrediction & {
  /** The image as the model saw it (cropped, resized, stain-normalised), PNG. */
  inputPng: Uint8Array;
  /** Each map asked for, alone in colour at the input's size, PNG (the page blends it). */
  heatmaps: Partial<Record<OverlayMethod, Uint8Array>>;
};

export type ImageOutcome = ServedPrediction | ImageFailure;

/**
 * Asks the worker to free the model and end by itself. Worker.terminate() must not be used while a
 * native call may be running: the addon then throws without a JS environment and aborts the process.
 */
export interface StopRequest {
  type: 'stop';
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outcomes: ImageOutcome[] }
  | { type: 'summary'; id: number; summary: CaseSummary }
  | { type: 'error'; id: number; message: string };
