"""Checks .onnx files with the reference ONNX package (onnx.checker, full check with shape
inference) and prints, per file, one JSON line of what it read: versions, inputs and outputs
with their inferred shapes, the operators and metadata_props.

    python3 onnx-check.py model.onnx [...]
"""
import json
import sys

import onnx


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    return [d.dim_param if d.HasField('dim_param') else d.dim_value for d in shape.dim]


for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    print(json.dumps({
        'file': path,
        'irVersion': model.ir_version,
        'opset': [[o.domain, o.version] for o in model.opset_import],
        'producer': model.producer_name,
        'inputs': [[v.name, dims(v)] for v in model.graph.input],
        'outputs': [[v.name, dims(v)] for v in inferred.graph.output],
        'ops': sorted({n.op_type for n in model.graph.node}),
        'metadata': {p.key: p.value for p in model.metadata_props},
    }))
