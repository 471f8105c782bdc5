#!/usr/bin/env python3
"""scikit-learn's bundled digits (1,797 8x8 images, inside the wheel) as a real multi-view set.

Writes OUT/digits.safetensors with a fixed stratified split (1,000 train, 797 test, seed 0) and
four feature views per split -- pixels (64), profile (8 row + 8 column sums), blocks (16 means of
2x2 blocks), strokes (8 + 8 sums of absolute horizontal and vertical differences) -- plus
`labels` (int32); then prints scikit-learn's late fusion on the same split: one standardised
LogisticRegressionCV per view, fused by the mean of their probabilities, by the product rule,
and by stacking (a logistic regression on out-of-fold log-probabilities, 5 stratified folds).

    python3 scripts/digits-views.py OUT
    fusebox train digits --data OUT/digits.safetensors --split train --method auto
"""
import sys, os, json, warnings
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from safetensors.numpy import save_file

warnings.filterwarnings("ignore", category=FutureWarning)


def views(images):
    x = images.astype(np.float32)
    return {
        "pixels": x.reshape(len(x), 64),
        "profile": np.concatenate([x.sum(axis=2), x.sum(axis=1)], axis=1),
        "blocks": x.reshape(len(x), 4, 2, 4, 2).mean(axis=(2, 4)).reshape(len(x), 16),
        "strokes": np.concatenate([np.abs(np.diff(x, axis=2)).sum(axis=2), np.abs(np.diff(x, axis=1)).sum(axis=1)], axis=1),
    }


def main(out):
    digits = load_digits()
    index = np.arange(len(digits.target))
    train, test = train_test_split(index, train_size=1000, stratify=digits.target, random_state=0)
    all_views = views(digits.images)
    tensors = {}
    for split, rows in (("train", train), ("test", test)):
        for name, v in all_views.items():
            tensors[f"{split}.{name}"] = np.ascontiguousarray(v[rows])
        tensors[f"{split}.labels"] = digits.target[rows].astype(np.int32)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "digits.safetensors"))

    y_train, y_test = digits.target[train], digits.target[test]

    def model():
        return make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=10, max_iter=5000))

    fitted = {n: model().fit(v[train], y_train) for n, v in all_views.items()}
    probs = {n: m.predict_proba(all_views[n][test]) for n, m in fitted.items()}
    results = {f"view {n}": float((p.argmax(1) == y_test).mean()) for n, p in probs.items()}
    stacked = np.stack(list(probs.values()))
    results["mean"] = float((stacked.mean(0).argmax(1) == y_test).mean())
    results["product"] = float((np.log(np.clip(stacked, 1e-15, 1)).sum(0).argmax(1) == y_test).mean())
    # Stacking on out-of-fold probabilities.
    oof = np.zeros((len(train), len(all_views) * 10))
    for fit_rows, held in StratifiedKFold(5, shuffle=True, random_state=0).split(train, y_train):
        for j, (n, v) in enumerate(all_views.items()):
            m = model().fit(v[train][fit_rows], y_train[fit_rows])
            oof[held, j * 10:(j + 1) * 10] = np.log(np.clip(m.predict_proba(v[train][held]), 1e-15, 1))
    stacker = LogisticRegression(max_iter=5000).fit(oof, y_train)
    test_features = np.concatenate([np.log(np.clip(probs[n], 1e-15, 1)) for n in all_views], axis=1)
    results["stacking"] = float((stacker.predict(test_features) == y_test).mean())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "digits")
