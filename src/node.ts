// normgrad's Node entry: the whole core (index.ts) plus what needs Node's file system:
// checkpoint files, ONNX files, atomic writes and the MNIST loader. `normgrad` resolves here under Node,
// and `normgrad/node` names it explicitly.
export * from './index.js';
export { saveCheckpoint, loadCheckpoint } from './train/checkpoint-file.js';
export { loadMnist, mnistSplit, MNIST_PIXELS, MNIST_CLASSES, type MnistDataset, type MnistSubset, type MnistSplitOptions, type MnistSplits } from './data/mnist.js';
export { mnistBatches, mnistStream, mnistTensors, type MnistBatch, type MnistBatchOptions, type MnistStreamOptions, type MnistStep, type MnistRange } from './data/mnist-batches.js';
export { writeFileAtomic, AtomicWriteError, type AtomicWriteFs } from './train/atomic-write.js';
export { saveOnnx } from './interop/onnx/save-onnx.js';
export { modelCheckpoint, ModelCheckpoint, type ModelCheckpointOptions, type SavedCheckpoint } from './train/model-checkpoint.js';
