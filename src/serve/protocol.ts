// Messages between the server (main thread) and the inference worker. Only plain data crosses:
// libtorch tensors live and die inside the worker that created them.

export type OverlayMethod = 'attention' | 'gradcam';
export const OVERLAY_METHODS: readonly OverlayMethod[] = ['attention', 'gradcam'];

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
  images: Uint8Array[];
  overlays: OverlayMethod[];
}

export interface ImagePrediction {
  ok: true;
  /** Calibrated probability of every class, in the run's class order. */
  probabilities: number[];
  predicted: number;
  /** Below the run's referral threshold: show to a specialist. */
  refer: boolean;
  /** The image as the model saw it (cropped, resized, stain-normalised), PNG. */
  inputPng: Uint8Array;
  /** The explanation map alone in colour at the input's size, PNG, one per method asked for. */
  heatmaps: Partial<Record<OverlayMethod, Uint8Array>>;
  notes: string[];
}

export interface ImageFailure {
  ok: false;
  reason: string;
  message: string;
}

export type ImageOutcome = ImagePrediction | ImageFailure;

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
  | { type: 'error'; id: number; message: string };
