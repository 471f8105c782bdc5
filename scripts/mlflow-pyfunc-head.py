#!/usr/bin/env python3
"""Saves an MLflow pyfunc model that computes a Fusebox weighted-average head: p = w_image * image +
w_text * text over two 10-class probability rows (columns image_0..9, text_0..9), answering each
row's probabilities and predicted class, as `fusebox serve`'s predict does.

    scripts/mlflow-pyfunc-head.py W_IMAGE W_TEXT OUT_DIR      (needs mlflow from PyPI)

scripts/bench-serve.sh passes the weights of the version it serves with fusebox, so both servers
answer with the same numbers."""
import shutil
import sys

import mlflow.pyfunc
import numpy as np
import pandas as pd

w_image, w_text, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]


class WeightedAverage(mlflow.pyfunc.PythonModel):
    def __init__(self, weights):
        self.weights = weights

    def predict(self, context, model_input, params=None):
        x = np.asarray(model_input, dtype=np.float32)
        p = self.weights[0] * x[:, :10] + self.weights[1] * x[:, 10:20]
        return {"probabilities": p.tolist(), "predictions": p.argmax(1).tolist()}


shutil.rmtree(out, ignore_errors=True)
columns = [f"image_{i}" for i in range(10)] + [f"text_{i}" for i in range(10)]
example = pd.DataFrame(np.full((1, 20), 0.1, dtype=np.float32), columns=columns)
mlflow.pyfunc.save_model(out, python_model=WeightedAverage([w_image, w_text]), input_example=example)
print("saved", out)
