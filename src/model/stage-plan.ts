// Where each stage halves the resolution and where it dilates instead: DeepLab's output stride, as
// torchvision's replace_stride_with_dilation does it. A stage that would go below the output stride
// keeps the resolution; its convolutions then sample the grid as coarsely as the strided network's
// would (dilation doubles), so every layer keeps the receptive field it had.
import type { PaddingMode } from '../nn/index.js';
import { STEM_STRIDE } from './config.js';

/** How one residual block's convolutions sample their input. */
export interface BlockLayout {
  /** Stride of the block's strided conv (2 halves the resolution, 1 keeps it). */
  stride: number;
  /** Dilation of the conv that strides in a strided network: it still reads the previous grid. */
  entryDilation: number;
  /** Dilation of the block's other 3×3 convolutions. */
  dilation: number;
  paddingMode: PaddingMode;
  /** Stochastic depth: probability of dropping the block's residual branch in training (absent: 0). */
  dropPath?: number;
}

/** The blocks of every stage, first block first: only a stage's first block may stride or enter a new dilation. */
export function blockLayouts(depths: readonly number[], outputStride: number, paddingMode: PaddingMode): BlockLayout[][] {
  let stride = STEM_STRIDE;
  let dilation = 1;
  return depths.map((depth, s) => {
    const entryDilation = dilation;
    let firstStride = 1;
    if (s > 0 && stride < outputStride) {
      stride *= 2;
      firstStride = 2;
    } else if (s > 0) {
      dilation *= 2;
    }
    return Array.from({ length: depth }, (_, b) => (b === 0
      ? { stride: firstStride, entryDilation, dilation, paddingMode }
      : { stride: 1, entryDilation: dilation, dilation, paddingMode }));
  });
}
