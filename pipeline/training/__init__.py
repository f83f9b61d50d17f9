"""Making and measuring models: metrics, fitting, fine-tuning, distilling, exporting, evaluating, experiments."""
