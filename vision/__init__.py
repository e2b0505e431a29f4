"""Frame maths, model manifests and ONNX detection."""
