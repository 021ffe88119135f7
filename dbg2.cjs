const {canonicalForm}=require('./dist/rewriter/canonical-form');
const {decodeModel}=require('./dist/rewriter/proto');
const {GraphView}=require('./dist/rewriter/graph-view');
const {quantizePerRow}=require('./dist/rewriter/dynamic-quantization');
const path=process.argv[2];
const m=canonicalForm(decodeModel(require('fs').readFileSync(path)),'x');
for (const n of m.graph.node) console.log(n.op_type, n.name, n.input.join(','), '->', n.output.join(','));
