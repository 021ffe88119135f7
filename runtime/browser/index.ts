/**
 * The browser module (dist/browser/onnx-explain.mjs): the same core as Node with onnxruntime-web,
 * plus pixel helpers for canvases.
 */
export { ort } from './backend';
export * from '../api';
export { decodeImage, rgbaImageData } from './image';
