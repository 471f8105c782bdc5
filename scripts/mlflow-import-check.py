"""`fusebox import mlflow`, checked with MLflow's own client at both ends.

    python mlflow-import-check.py make DIR    # MLflow itself writes DIR/mlflow.db and DIR/artifacts/
                                              # through its public client; DIR/manifest.json says what
    fusebox import mlflow DIR/mlflow.db
    MLFLOW_TRACKING_URI=http://...fusebox serve... python mlflow-import-check.py check DIR

`check` reads everything back through MLflow's client from `fusebox serve`: runs by their MLflow
ids, params, tags, every metric value, artifacts byte for byte, models, versions, aliases. It
exits non-zero on the first difference.
"""

import json
import os
import struct
import sys

import mlflow
from mlflow import MlflowClient

mode, work = sys.argv[1], os.path.abspath(sys.argv[2])
os.makedirs(work, exist_ok=True)
artifacts = os.path.join(work, "artifacts")


def safetensors(path, values):
    data = struct.pack(f"<{len(values)}f", *values)
    header = json.dumps({"w": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def make():
    mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
    mlflow.set_registry_uri(f"sqlite:///{work}/mlflow.db")
    client = MlflowClient()
    manifest = {"experiments": {}, "runs": {}, "models": {}}
    for name in ["vision", "text"]:
        experiment_id = client.create_experiment(
            name, artifact_location=f"file://{artifacts}/{name}", tags={"team": name})
        manifest["experiments"][name] = experiment_id
        for i in range(2):
            params = {"lr": str(0.1 / (i + 1)), "method": "weighted-average"}
            with mlflow.start_run(experiment_id=experiment_id, run_name=f"{name}-{i}") as run:
                mlflow.log_params(params)
                for step in range(4):
                    mlflow.log_metric("accuracy", 0.6 + 0.05 * step + 0.01 * i, step=step)
                mlflow.set_tag("owner", name)
                model = os.path.join(work, f"model-{name}-{i}")
                os.makedirs(model, exist_ok=True)
                safetensors(os.path.join(model, "weights.safetensors"), [float(i), 0.5, 0.25])
                with open(os.path.join(model, "MLmodel"), "w") as f:
                    f.write("artifact_path: model\nflavors: {}\n")
                mlflow.log_artifacts(model, artifact_path="model")
            manifest["runs"][run.info.run_id] = {
                "experiment": name, "name": f"{name}-{i}", "params": params, "tags": {"owner": name},
                "accuracy": [[s, 0.6 + 0.05 * s + 0.01 * i] for s in range(4)],
            }
            if name == "vision":
                version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "vision-cnn")
                manifest["models"].setdefault("vision-cnn", []).append(
                    {"version": version.version, "run": run.info.run_id,
                     "weights": os.path.join(model, "weights.safetensors")})
    client.set_registered_model_alias("vision-cnn", "production", "1")
    client.set_registered_model_alias("vision-cnn", "production", "2")
    client.set_registered_model_alias("vision-cnn", "previous", "1")
    manifest["aliases"] = {"vision-cnn": {"production": 2, "previous": 1}}
    # A registered model whose version is not a tensor file: the importer skips it and says why.
    with mlflow.start_run(experiment_id=manifest["experiments"]["text"], run_name="pickled") as run:
        with open(os.path.join(work, "model.pkl"), "wb") as f:
            f.write(b"\x80\x04N.")
        mlflow.log_artifact(os.path.join(work, "model.pkl"), artifact_path="model")
        with open(os.path.join(work, "MLmodel"), "w") as f:
            f.write("artifact_path: model\nflavors: {}\n")
        mlflow.log_artifact(os.path.join(work, "MLmodel"), artifact_path="model")
    manifest["runs"][run.info.run_id] = {
        "experiment": "text", "name": "pickled", "params": {}, "tags": {}, "accuracy": []}
    mlflow.register_model(f"runs:/{run.info.run_id}/model", "text-pickle")
    with open(os.path.join(work, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print("mlflow store made", flush=True)


def expect(label, condition, detail=""):
    if not condition:
        print(f"FAIL {label} {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {label}", flush=True)


def check():
    client = MlflowClient()
    manifest = json.load(open(os.path.join(work, "manifest.json")))
    for name in manifest["experiments"]:
        experiment = client.get_experiment_by_name(name)
        expect(f"experiment {name}", experiment is not None and experiment.tags.get("team") == name)
    for uuid, expected in manifest["runs"].items():
        label = f"run {expected['name']}"
        run = client.get_run(uuid)
        expect(f"{label} by its MLflow id", run.info.run_name == expected["name"] and run.info.status == "FINISHED",
               (run.info.run_name, run.info.status))
        expect(f"{label} params", run.data.params == expected["params"], run.data.params)
        tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        expect(f"{label} tags", tags == expected["tags"], tags)
        history = [[m.step, m.value] for m in client.get_metric_history(uuid, "accuracy")]
        expect(f"{label} metric history", len(history) == len(expected["accuracy"]) and all(
            a[0] == b[0] and abs(a[1] - b[1]) < 1e-12 for a, b in zip(history, expected["accuracy"])), history)
        experiment = client.get_experiment(run.info.experiment_id)
        expect(f"{label} experiment", experiment.name == expected["experiment"], experiment.name)
    for name, versions in manifest["models"].items():
        for v in versions:
            got = client.get_model_version(name, v["version"])
            expect(f"{name} version {v['version']} lineage", got.run_id == client.get_run(v["run"]).info.run_id)
            local = mlflow.artifacts.download_artifacts(
                f"models:/{name}/{v['version']}", dst_path=os.path.join(work, f"dl-{name}-{v['version']}"))
            same = open(os.path.join(local, "weights.safetensors"), "rb").read() == open(v["weights"], "rb").read()
            expect(f"{name} version {v['version']} artifact byte for byte", same)
    for name, aliases in manifest["aliases"].items():
        for alias, version in aliases.items():
            got = client.get_model_version_by_alias(name, alias)
            expect(f"{name}@{alias}", got.version == str(version), got.version)
    expect("the pickled model came without its version",
           client.get_registered_model("text-pickle").latest_versions == [])
    print("mlflow import: all checks passed", flush=True)


make() if mode == "make" else check()
