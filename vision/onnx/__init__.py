"""ONNX adapters: inference session, dynamic batch derivation, weight fetching."""
