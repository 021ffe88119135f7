import * as ort from 'onnxruntime-node';
import { setBackend } from '../backend';
import { loadModel } from './model-file';

/** Registers onnxruntime-node (cpu, cuda where its libraries are installed, webgpu) as the backend. */
setBackend({ ort, providers: ['cpu', 'cuda', 'webgpu'], fallback: 'cpu', loadModel });
