import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from xpnet.sklearn import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0))
pipe.fit(X, y)

onx = to_onnx(pipe, X[:1], options={"zipmap": False}, target_opset=17)  # as for sklearn's own MLPClassifier
session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
labels, probabilities = session.run(None, {"X": X})
print((labels == pipe.predict(X)).all(), np.abs(probabilities - pipe.predict_proba(X)).max())
