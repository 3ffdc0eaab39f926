// The local web app: what the CLI starts, and what scripts may embed.
export { createServer, serveDefaults, serveTimeouts, type ServeOptions, type Server } from './server.js';
export { isLoopback } from './host-guard.js';
export { OVERLAY_METHODS, type ServedPrediction } from './protocol.js';
